"""Runbook steps that act: revert the prompt, swap the retriever, route to people, and a real
rollback the next policy decision compares against. Each outcome says what changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.incidents.models import StepExecution, TimelineEntry
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import runbook_start, runbook_step_perform
from governance.inventory.services import model_version_register
from governance.policy.inputs import deployment_input
from governance.policy.selectors import deployment_request_resolve
from governance.releases.models import ReleaseRequest, ReleaseState
from governance.runtime.control_services import runtime_control_create
from governance.runtime.models import KillSwitchEvent, RuntimeControl
from governance.webhooks.models import OutboundDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db
TESTS = Actor.system("tests")


@pytest.fixture
def versions(system):
    made = {}
    for number, prompt in (("3.0.0", "refunds-v6"), ("3.1.0", "refunds-v7"), ("3.2.0", "")):
        made[number] = model_version_register(
            actor=TESTS,
            system=system,
            version=number,
            framework="llm-provider",
            artifact_format="provider-hosted",
            prompt_version=prompt,
        )
    return made


def deployed(system, version, commander, *, days_ago: int, state=ReleaseState.DEPLOYED):
    """A release as the releases app leaves it once deployed (its own tests cover the way)."""
    moment = timezone.now() - timedelta(days=days_ago)
    return ReleaseRequest.objects.create(
        system=system,
        model_version=version,
        environment="production",
        title=f"Ship {version.version}",
        change_summary="x",
        justification="x",
        requester=commander,
        state=state,
        content_hash="0" * 64,
        decided_at=moment,
        deployed_at=moment,
    )


def run_first_step(runbook, incident, commander, capture):
    actor = Actor.for_user(commander)
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    execution = run.executions.order_by("step__position").first()
    with capture(execute=True):
        runbook_step_perform(actor=actor, execution=execution)
    return StepExecution.objects.get(pk=execution.pk)


def test_revert_prompt_sets_the_last_approved_prompt_and_services_see_it(
    system, versions, commander, incident, eager_celery, django_capture_on_commit_callbacks
):
    deployed(system, versions["3.0.0"], commander, days_ago=10)
    control = runtime_control_create(
        actor=TESTS,
        key="copilot-prompt",
        system=system,
        kind="prompt_version",
        value="refunds-v7",
        safe_value="refunds-v6",
    )
    runbook = runbook_create_from_template(
        actor=TESTS, system=system, template="revert-prompt", slug="revert", control=control
    )
    assert runbook.steps.first().action == "revert_prompt"
    done = run_first_step(runbook, incident, commander, django_capture_on_commit_callbacks)
    assert done.status == "done", done.outcome
    assert done.outcome == "Control copilot-prompt set to 'refunds-v6'."
    control.refresh_from_db()
    assert (control.value, control.incident_id) == ("refunds-v6", incident.pk)
    assert KillSwitchEvent.objects.get(control=control).payload["value"] == "refunds-v6"
    assert TimelineEntry.objects.filter(incident=incident, kind="control").count() == 1


def test_revert_prompt_without_an_approved_other_prompt_fails_and_changes_nothing(
    system, versions, commander, incident, eager_celery, django_capture_on_commit_callbacks
):
    control = runtime_control_create(
        actor=TESTS,
        key="copilot-prompt",
        system=system,
        kind="prompt_version",
        value="refunds-v7",
        safe_value="refunds-v6",
    )
    runbook = runbook_create_from_template(
        actor=TESTS, system=system, template="revert-prompt", slug="revert", control=control
    )
    failed = run_first_step(runbook, incident, commander, django_capture_on_commit_callbacks)
    assert failed.status == "failed"
    assert "not changed" in failed.outcome
    assert RuntimeControl.objects.get().value == "refunds-v7"


def test_swap_retriever_and_route_to_human_set_their_controls(
    system, commander, incident, make_incident, eager_celery, django_capture_on_commit_callbacks
):
    retriever = runtime_control_create(
        actor=TESTS,
        key="copilot-retriever",
        system=system,
        kind="retriever",
        choices=["pgvector-2026-11", "pgvector-2026-10"],
        value="pgvector-2026-11",
        safe_value="pgvector-2026-10",
    )
    human = runtime_control_create(
        actor=TESTS,
        key="copilot-human",
        system=system,
        kind="route_to_human",
        value=False,
        safe_value=True,
    )
    swap = runbook_create_from_template(
        actor=TESTS,
        system=system,
        template="swap-retriever",
        slug="swap",
        control=retriever,
        control_value="pgvector-2026-10",
    )
    route = runbook_create_from_template(
        actor=TESTS, system=system, template="route-to-human", slug="route", control=human
    )
    assert run_first_step(swap, incident, commander, django_capture_on_commit_callbacks).status == (
        "done"
    )
    assert run_first_step(
        route, incident, commander, django_capture_on_commit_callbacks
    ).status == ("done")
    assert RuntimeControl.objects.get(key="copilot-retriever").value == "pgvector-2026-10"
    assert RuntimeControl.objects.get(key="copilot-human").value is True
    # The same step again: already so, nothing changes, and the outcome says that.
    again = run_first_step(
        route, make_incident(title="Again"), commander, django_capture_on_commit_callbacks
    )
    assert again.status == "done" and "already" in again.outcome
    assert KillSwitchEvent.objects.filter(control=human).count() == 1


def test_rollback_makes_the_previous_version_current_for_the_policy_and_the_readers(
    system,
    versions,
    commander,
    incident,
    eager_celery,
    django_capture_on_commit_callbacks,
    admin_user,
):
    deployed(system, versions["3.0.0"], commander, days_ago=10)
    current = deployed(system, versions["3.1.0"], commander, days_ago=1)
    model = runtime_control_create(
        actor=TESTS,
        key="copilot-model",
        system=system,
        kind="model",
        value="3.1.0",
        safe_value="3.0.0",
    )
    WebhookSubscription.objects.create(
        name="deployer",
        url="https://deploy.example.com/hooks",
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        events=["release.rolled_back"],
        active=True,
        created_by="tests",
    )
    request = deployment_request_resolve(
        system_slug=system.slug, version="3.2.0", environment="production", requester="ci"
    )
    assert deployment_input(request)["current_version"]["version"] == "3.1.0"
    runbook = runbook_create_from_template(
        actor=TESTS,
        system=system,
        template="rollback-model",
        slug="rollback",
        model_version=versions["3.0.0"],
    )
    done = run_first_step(runbook, incident, commander, django_capture_on_commit_callbacks)
    assert done.status == "done", done.outcome
    current.refresh_from_db()
    assert current.state == ReleaseState.ROLLED_BACK
    # The next decision compares against what is now current.
    request = deployment_request_resolve(
        system_slug=system.slug, version="3.2.0", environment="production", requester="ci"
    )
    assert deployment_input(request)["current_version"]["version"] == "3.0.0"
    model.refresh_from_db()
    assert model.value == "3.0.0"
    assert OutboundDelivery.objects.filter(event="release.rolled_back").count() == 1
    assert "current version is now 3.0.0" in done.outcome
    assert "1 signed release.rolled_back webhook(s) queued" in done.outcome
    assert done.result["controls"] == ["copilot-model"]
    assert AuditEvent.objects.filter(action="releases.request.rolled_back").count() == 1
    assert TimelineEntry.objects.filter(incident=incident, kind="rollback").count() == 1


def test_a_rollback_that_would_land_elsewhere_than_expected_changes_nothing(
    system, versions, commander, incident, eager_celery, django_capture_on_commit_callbacks
):
    deployed(system, versions["3.0.0"], commander, days_ago=10)
    current = deployed(system, versions["3.1.0"], commander, days_ago=1)
    runbook = runbook_create_from_template(
        actor=TESTS,
        system=system,
        template="rollback-model",
        slug="rollback",
        model_version=versions["3.2.0"],
    )
    failed = run_first_step(runbook, incident, commander, django_capture_on_commit_callbacks)
    assert failed.status == "failed"
    assert "nothing rolled back" in failed.outcome
    current.refresh_from_db()
    assert current.state == ReleaseState.DEPLOYED
