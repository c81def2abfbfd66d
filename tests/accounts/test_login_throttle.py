"""Login abuse: per IP and per username lockouts with backoff, 429 with Retry-After, and a
series of failures recorded as one audit event with a count."""

import pytest
from django.core.cache import cache
from django.test import Client

from governance.accounts.models import Role
from governance.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def _attempt(username: str, password: str = "wrong", ip: str = "203.0.113.7"):  # noqa: S107
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password})


def _events(prefix: str = "accounts.login.") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("sequence"))


def test_fifty_wrong_passwords_are_throttled_and_audited_as_two_events(make_user):
    make_user(Role.VIEWER, username="vera")
    statuses = [_attempt("vera").status_code for _ in range(50)]
    assert statuses[:4] == [200] * 4
    assert statuses[4:] == [429] * 46
    events = _events()
    assert [e.action for e in events] == ["accounts.login.failed", "accounts.login.locked_out"]
    locked = events[1]
    assert locked.after["failures"] == 5
    assert locked.after["username"] == "vera"
    assert locked.after["ip"] == "203.0.113.7"
    assert locked.after["cooloff_seconds"] == 60


def test_a_lockout_answers_429_with_retry_after_and_refuses_the_right_password(make_user):
    make_user(Role.VIEWER, username="vera")
    for _ in range(5):
        _attempt("vera")
    response = _attempt("vera", password="pw-for-tests-only")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in response.client.session
    assert not AuditEvent.objects.filter(action="accounts.login.succeeded").exists()


def test_the_username_is_locked_across_addresses(make_user):
    make_user(Role.VIEWER, username="vera")
    for n in range(5):
        _attempt("vera", ip=f"198.51.100.{n + 1}")
    assert _attempt("vera", password="pw-for-tests-only", ip="192.0.2.50").status_code == 429


def test_the_address_is_locked_across_usernames(make_user):
    make_user(Role.VIEWER, username="vera")
    for n in range(5):
        _attempt(f"guess-{n}")
    assert _attempt("vera", password="pw-for-tests-only").status_code == 429
    # Another address may still sign in as vera.
    assert _attempt("vera", password="pw-for-tests-only", ip="192.0.2.9").status_code == 302


def test_each_lockout_in_a_day_doubles_the_cooloff(make_user, settings):
    from axes.models import AccessAttempt

    make_user(Role.VIEWER, username="vera")
    for _ in range(5):
        _attempt("vera")
    first = int(_attempt("vera")["Retry-After"])
    assert first <= 60
    # The lockout ends (its attempts expire), and the caller fails again.
    AccessAttempt.objects.all().delete()
    for _ in range(5):
        _attempt("vera")
    second = _attempt("vera")
    assert second.status_code == 429
    assert 60 < int(second["Retry-After"]) <= 120
    assert [e.after["cooloff_seconds"] for e in _events("accounts.login.locked_out")] == [60, 120]


def test_a_good_sign_in_resets_the_count(make_user):
    make_user(Role.VIEWER, username="vera")
    for _ in range(4):
        _attempt("vera")
    assert _attempt("vera", password="pw-for-tests-only").status_code == 302
    for _ in range(4):
        assert _attempt("vera").status_code == 200
