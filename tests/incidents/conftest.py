"""Factories for incidents and kill switches."""

from collections.abc import Callable

import pytest

from governance.accounts.models import Role, User
from governance.core.actor import Actor
from governance.incidents.models import Incident, SeverityLevel
from governance.incidents.services import incident_open
from governance.incidents.severity import severity_levels_ensure
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create, model_version_register
from governance.runtime.models import KillSwitch
from governance.runtime.services import kill_switch_create


@pytest.fixture
def commander(make_user: Callable[..., User]) -> User:
    return make_user(Role.INCIDENT_COMMANDER, username="ines")


@pytest.fixture
def approver(make_user: Callable[..., User]) -> User:
    return make_user(Role.APPROVER, username="arjun")


@pytest.fixture
def system(admin_user: User) -> AISystem:
    return ai_system_create(
        actor=Actor.system("tests"),
        slug="support-copilot",
        name="Support copilot",
        owner=admin_user,
        risk_tier="high",
    )


@pytest.fixture
def version(system: AISystem) -> object:
    return model_version_register(
        actor=Actor.system("tests"),
        system=system,
        version="3.1.0",
        framework="llm-provider",
        artifact_format="provider-hosted",
    )


@pytest.fixture
def make_switch(system: AISystem) -> Callable[..., KillSwitch]:
    def make(key: str = "support-copilot", **fields: object) -> KillSwitch:
        fields.setdefault("scope", "system")
        return kill_switch_create(actor=Actor.system("tests"), key=key, system=system, **fields)

    return make


@pytest.fixture
def switch(make_switch: Callable[..., KillSwitch]) -> KillSwitch:
    return make_switch()


@pytest.fixture
def make_incident(system: AISystem, commander: User) -> Callable[..., Incident]:
    def make(severity: str = "SEV2", title: str = "Refund tool leaks card numbers") -> Incident:
        return incident_open(
            actor=Actor.for_user(commander),
            title=title,
            severity=SeverityLevel.objects.get(code=severity),
            systems=[system],
            commander=commander,
        )

    return make


@pytest.fixture
def incident(make_incident: Callable[..., Incident]) -> Incident:
    return make_incident()


@pytest.fixture
def eager_celery() -> object:
    """Run tasks in-process in this test, also in the services pass (the worker tests use the
    real worker instead)."""
    from governance.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _severity_levels(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the rows the migration created; put the levels back."""
    if request.node.get_closest_marker("django_db"):
        severity_levels_ensure()
