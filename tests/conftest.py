"""Fixtures shared by the whole suite: users per role, API clients, services checks."""

import os
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.db.backends.base.operations import BaseDatabaseOperations
from rest_framework.test import APIClient

from governance.accounts.models import Role, User
from governance.accounts.services import api_token_create
from governance.audit.triggers import (
    create_proof_triggers,
    create_triggers,
    drop_proof_triggers,
    drop_triggers,
)
from governance.core.actor import Actor
from tests.http_peer import Recorder

ALL_ROLES = [role.value for role in Role]

# Third-party samples (real payloads, published test vectors) live beside the clone in
# ../shared, never in the repository. Tests that read them say so with the needs_shared marker
# (module-level pytestmark or per test) and find the folder through SHARED_DIR only.
SHARED_DIR = Path(
    os.environ.get("GOVERNANCE_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared"
)
_not_run_for_shared: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    _lift_audit_triggers_during_flush()
    if not SHARED_DIR.is_dir() and os.environ.get("CI"):
        raise pytest.UsageError(
            f"CI is set and the shared samples folder {SHARED_DIR} (../shared) is missing: "
            "the tests that need it cannot run."
        )


def _module_needs_shared(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    return any(
        line.startswith("pytestmark") and "needs_shared" in line for line in text.splitlines()
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Without ../shared, modules that need it are not even imported (they load samples at
    import time); they are counted for the one summary line."""
    if SHARED_DIR.is_dir() or collection_path.suffix != ".py":
        return None
    if collection_path.name.startswith("test_") and _module_needs_shared(collection_path):
        _not_run_for_shared.append(str(collection_path.relative_to(Path.cwd())))
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_DIR.is_dir():
        return
    needing = [item for item in items if item.get_closest_marker("needs_shared")]
    if needing:
        _not_run_for_shared.extend(item.nodeid for item in needing)
        config.hook.pytest_deselected(items=needing)
        items[:] = [item for item in items if item not in needing]


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: object) -> None:
    if _not_run_for_shared:
        terminalreporter.write_line(
            f"SKIPPED: {len(_not_run_for_shared)} test modules and tests need the shared samples "
            f"folder {SHARED_DIR} (../shared), which is missing; set CI to make this a failure."
        )


def _lift_audit_triggers_during_flush() -> None:
    """Transactional tests end with a flush, which the append-only triggers refuse. Tests
    (only) drop the triggers for that flush and put them back in the same transaction."""
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        drop_triggers(self.connection)
        drop_proof_triggers(self.connection)
        try:
            original(self, sql_list)
        finally:
            create_triggers(self.connection)
            create_proof_triggers(self.connection)

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


@pytest.fixture(autouse=True)
def _audit_seals_at_commit_when_tests_commit(request: pytest.FixtureRequest, settings) -> None:
    """Tests that commit (transactional and live-server tests) seal audit events at commit,
    as the product does; the rest roll back and seal as they record (settings/test.py)."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    ):
        settings.AUDIT_SEAL = "at_commit"


@pytest.fixture(autouse=True)
def _rate_limit_asks_the_cache() -> None:
    """A test that broke the cache must not leave the token rate limit standing aside."""
    from governance.accounts import throttling

    throttling._skip_until = 0.0


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


@pytest.fixture
def receiver() -> Iterator[str]:
    """A local HTTP receiver on loopback (see tests.http_peer); its base URL."""
    Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def tasks_in_process():
    """Tasks run here, in both passes: what the outbox queues after commit runs in this
    process (the services pass would hand it to the Celery worker otherwise)."""
    from governance.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
