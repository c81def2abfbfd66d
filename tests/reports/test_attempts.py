"""Each render task belongs to one attempt; queued work survives a broker outage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core import outbox
from governance.core.actor import Actor
from governance.core.models import OutboxMessage
from governance.core.outbox import outbox_sweep
from governance.reports import services
from governance.reports.models import Report, ReportStatus
from governance.reports.services import report_render, report_request, report_retry


class Published(list):
    down = True


@pytest.fixture
def broker_down(monkeypatch):
    """A broker that refuses every publish, as a dead Redis does."""
    sent = Published()

    def send_task(name, *, args, kwargs, task_id):
        if sent.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:56379. Connection refused.")
        sent.append((name, args, task_id))

    conf = outbox.current_app.conf
    before, conf.task_always_eager = conf.task_always_eager, False
    monkeypatch.setattr(outbox.current_app, "send_task", send_task)
    yield sent
    assert outbox.lane.idle(10)
    conf.task_always_eager = before


def _queued(make_user, django_capture_on_commit_callbacks) -> Report:
    with django_capture_on_commit_callbacks(execute=False):
        return report_request(actor=Actor.for_user(make_user(Role.AUDITOR)), kind="portfolio")


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_report_request_is_accepted_and_published_later(
    governed_system, client_for, broker_down
):
    auditor = client_for(Role.AUDITOR)
    response = auditor.post("/api/v1/reports", {"kind": "portfolio"}, format="json")
    assert response.status_code == 202, response.content
    report = Report.objects.get(public_id=response.json()["id"])
    assert (report.status, report.attempts) == (ReportStatus.QUEUED, 1)
    assert AuditEvent.objects.filter(
        action="reports.requested", target_id=str(report.public_id)
    ).exists()
    assert outbox.lane.idle(10)
    message = OutboxMessage.objects.get(args=[report.pk, 1])
    assert message.published_at is None and "refused" in message.last_error
    broker_down.down = False  # Redis is back: the sweeper publishes the render
    assert outbox_sweep() == 1
    assert broker_down == [
        ("governance.reports.tasks.report_render_task", [report.pk, 1], f"outbox-{message.pk}-1")
    ]


def test_a_stale_delivery_of_an_earlier_attempt_leaves_the_retry_alone(
    governed_system, make_user, django_capture_on_commit_callbacks, tmp_path
):
    report = _queued(make_user, django_capture_on_commit_callbacks)
    # Attempt 1's worker died mid-render; the sweeper failed it; the user retried (attempt 2).
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.FAILED, error="The worker stopped", stage="Failed"
    )
    with django_capture_on_commit_callbacks(execute=False):
        report_retry(actor=Actor.for_user(make_user(Role.AUDITOR)), report=report)
    report.refresh_from_db()
    assert (report.status, report.attempts) == (ReportStatus.QUEUED, 2)
    # Attempt 1's message comes back (acks_late redelivery): it may touch nothing.
    stale = report_render(report_id=report.pk, attempt=1)
    assert (stale.status, stale.attempts, stale.error) == (ReportStatus.QUEUED, 2, "")
    # Attempt 2 renders; attempt 1 redelivered again while it is running changes nothing either.
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert report_render(report_id=report.pk, attempt=1).status == ReportStatus.RUNNING
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.QUEUED)
    done = report_render(report_id=report.pk, attempt=2)
    assert (done.status, done.attempts) == (ReportStatus.DONE, 2), done.error
    assert done.file and len(done.sha256) == 64
    assert report_render(report_id=report.pk, attempt=1).status == ReportStatus.DONE


def test_a_copy_of_the_running_attempt_leaves_a_live_renderer_alone(
    governed_system, make_user, django_capture_on_commit_callbacks, settings
):
    report = _queued(make_user, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, heartbeat_at=timezone.now()
    )
    # Published twice (the sweeper raced a slow worker): the renderer still beats, so keep it.
    assert report_render(report_id=report.pk, attempt=1).status == ReportStatus.RUNNING
    # Its heartbeat went silent: this copy is the redelivery after its worker died.
    Report.objects.filter(pk=report.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.REPORT_STALE_SECONDS + 1)
    )
    failed = report_render(report_id=report.pk, attempt=1)
    assert failed.status == ReportStatus.FAILED and "worker stopped" in failed.error


def test_a_report_queued_too_long_shows_it_and_can_be_retried(
    governed_system, client_for, make_user, django_capture_on_commit_callbacks, settings
):
    report = _queued(make_user, django_capture_on_commit_callbacks)
    auditor = client_for(Role.AUDITOR)
    url = f"/api/v1/reports/{report.public_id}"
    assert auditor.get(url).json()["queued_too_long"] is False
    assert auditor.post(f"{url}/retry").status_code == 409  # not yet: a worker may take it
    Report.objects.filter(pk=report.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS + 1)
    )
    assert auditor.get(url).json()["queued_too_long"] is True
    page = auditor.get("/reports/").content.decode()
    assert "Queued too long" in page
    with django_capture_on_commit_callbacks(execute=False):
        retried = auditor.post(f"{url}/retry")
    assert retried.status_code == 202
    report.refresh_from_db()
    assert (report.status, report.attempts, report.queued_too_long) == ("queued", 2, False)
    event = AuditEvent.objects.get(action="reports.retried", target_id=str(report.public_id))
    assert event.before["attempt"] == 1 and event.after["attempt"] == 2
    assert OutboxMessage.objects.filter(args=[report.pk, 2]).count() == 1


def test_the_sweeper_fails_a_silent_render_without_any_worker(
    governed_system, make_user, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from governance.beat import sweep_once

    report = _queued(make_user, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.REPORT_STALE_SECONDS + 1),
    )
    monkeypatch.setattr(outbox, "outbox_sweep", lambda: 0)
    assert sweep_once()["stale_reports"] == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.retryable
    assert services.report_stale_fail() == 0
