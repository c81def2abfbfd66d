"""Fixtures shared by the whole suite: users per role, API clients, services checks."""

import os
from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.db.backends.base.operations import BaseDatabaseOperations
from rest_framework.test import APIClient

from governance.accounts.models import Role, User
from governance.accounts.services import api_token_create
from governance.audit.triggers import create_triggers, drop_triggers
from governance.core.actor import Actor

ALL_ROLES = [role.value for role in Role]


def pytest_configure(config: pytest.Config) -> None:
    _lift_audit_triggers_during_flush()


def _lift_audit_triggers_during_flush() -> None:
    """Transactional tests end with a flush, which the append-only triggers refuse. Tests
    (only) drop the triggers for that flush and put them back in the same transaction."""
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        drop_triggers(self.connection)
        try:
            original(self, sql_list)
        finally:
            create_triggers(self.connection)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush


@pytest.fixture(scope="session", autouse=True)
def _require_services(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    """In the services pass a missing PostgreSQL or Redis is a failure, never a skip."""
    if os.environ.get("GOVERNANCE_REQUIRE_SERVICES") != "1":
        return
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(f"services pass needs PostgreSQL, got {connection.vendor}", returncode=3)
    import redis

    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3).ping()
    except Exception as exc:
        pytest.exit(
            f"services pass needs Redis at {os.environ.get('REDIS_URL')}: {exc}", returncode=3
        )


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: str = Role.VIEWER, username: str | None = None, **extra: object) -> User:
        name = username or f"{role}-{next(counter)}"
        user = User.objects.create_user(
            username=name, password="pw-for-tests-only", role=role, **extra
        )
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, username="root-admin")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(make_user: Callable[..., User]) -> Callable[[str | None], APIClient]:
    """An API client signed in as a fresh user of ``role`` (None: anonymous)."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            client.force_login(make_user(role))
        return client

    return make


@pytest.fixture
def make_token(admin_user: User) -> Callable[..., tuple[object, str]]:
    counter = iter(range(1, 10_000))

    def make(scopes: list[str], name: str | None = None) -> tuple[object, str]:
        return api_token_create(
            actor=Actor.for_user(admin_user), name=name or f"machine-{next(counter)}", scopes=scopes
        )

    return make


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """A real Celery worker process on Redis, using the test database. Integration tests only:
    without REDIS_URL and PostgreSQL this fails loudly rather than skipping."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.conf import settings

    from governance.celery import app

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql" or not settings.REDIS_URL:
        pytest.fail("integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL")
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings.test",
        "DATABASE_URL": f"postgres://{auth}@{host}:{port}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    app.control.purge()
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "governance",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"tests-{os.getpid()}@%h",
        ],
        cwd=root,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(
            timeout=0.5, destination=[f"tests-{os.getpid()}@{os.uname().nodename}"]
        ):
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited with {process.returncode}")
            if time.monotonic() > deadline:
                pytest.fail("the Celery worker did not answer a ping within 60 s")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
