"""Real threads on PostgreSQL: row locks make each race end in one legal state."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from governance.accounts.models import Role, User
from governance.audit.models import AuditEvent
from governance.core.errors import DomainError
from governance.releases.approvals import release_approval_record
from governance.releases.models import Approval, ReleaseRequest, ReleaseState
from governance.releases.services import release_request_submit, release_request_withdraw
from tests.releases.conftest import as_user, build_cast, draft

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
S = ReleaseState


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once; each result is its return value or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def cast(transactional_db: None):
    if connection.vendor != "postgresql":
        pytest.fail("the concurrency tests need PostgreSQL (DATABASE_URL)")
    counter = iter(range(1, 1000))

    def make(role: str = Role.VIEWER, username: str | None = None) -> User:
        return User.objects.create_user(
            username=username or f"{role}-{next(counter)}", password="pw", role=role
        )

    return build_cast(make)


def decide(user: User, release: ReleaseRequest, decision: str = "approve") -> Callable[[], Any]:
    return lambda: release_approval_record(
        actor=as_user(user),
        request=release,
        decision=decision,
        reason="race",
        content_hash=release.content_hash,
    )


def test_two_approvers_at_once_approve_exactly_once(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    results = race(decide(cast.anna, release), decide(cast.bert, release))
    assert all(isinstance(r, Approval) for r in results), results
    release.refresh_from_db()
    assert release.state == S.APPROVED
    assert AuditEvent.objects.filter(action="releases.request.approved").count() == 1


def test_approve_versus_withdraw_ends_in_one_legal_state(cast):
    release = release_request_submit(
        actor=as_user(cast.rita), request=draft(cast, system=cast.medium, version=cast.medium_v)
    )
    results = race(
        decide(cast.anna, release),
        lambda: release_request_withdraw(actor=as_user(cast.rita), request=release, reason="x"),
    )
    release.refresh_from_db()
    approved, withdrawn = results
    if isinstance(approved, Approval):
        # The approval came first: withdrawing an approved request is still legal.
        assert release.state == S.WITHDRAWN
        assert Approval.objects.get().voided_at is not None
    else:
        assert isinstance(approved, DomainError)
        assert release.state == S.WITHDRAWN and not Approval.objects.exists()
    assert not isinstance(withdrawn, Exception)


def test_double_submit_submits_once(cast):
    release = draft(cast)
    submit = lambda: release_request_submit(actor=as_user(cast.rita), request=release)  # noqa: E731
    results = race(submit, submit)
    assert sum(isinstance(r, ReleaseRequest) for r in results) == 1
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert AuditEvent.objects.filter(action="releases.request.submitted").count() == 1
    assert AuditEvent.objects.filter(action="releases.request.submit.refused").count() == 1


def test_a_double_click_records_one_approval(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    results = race(decide(cast.anna, release), decide(cast.anna, release))
    assert sum(isinstance(r, Approval) for r in results) == 1
    assert Approval.objects.count() == 1
    release.refresh_from_db()
    assert release.state == S.SUBMITTED
