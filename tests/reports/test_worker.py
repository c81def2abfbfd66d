"""A real Celery worker renders a report queued on commit."""

import time

import pytest
from django.conf import settings

from governance.accounts.models import Role
from governance.celery import app
from governance.core.actor import Actor
from governance.reports.models import Report, ReportStatus
from governance.reports.services import report_request


def test_beat_purges_reports_and_its_sweeper_fails_stale_ones(monkeypatch):
    import governance.beat
    import governance.reports.services

    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "governance.reports.tasks.report_retention_purge_task" in tasks
    assert tasks <= set(app.tasks)
    # The stale sweep runs in the sweeper thread beside beat, not as a task a worker must run.
    calls = []
    monkeypatch.setattr(governance.reports.services, "report_stale_fail", lambda: calls.append(1))
    monkeypatch.setattr("governance.core.outbox.outbox_sweep", lambda: 0)
    governance.beat.sweep_once()
    assert calls == [1]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_renders_a_report_and_reports_progress(celery_worker_process, make_user):
    auditor = make_user(Role.AUDITOR)
    report = report_request(actor=Actor.for_user(auditor), kind="portfolio")
    deadline, seen = time.monotonic() + 120, set()
    while time.monotonic() < deadline:
        report.refresh_from_db()
        seen.add(report.status)
        if report.status in (ReportStatus.DONE, ReportStatus.FAILED):
            break
        time.sleep(0.2)
    assert report.status == ReportStatus.DONE, report.error
    assert report.progress == 100 and report.pages >= 3 and len(report.sha256) == 64
    assert report.chain_sequence >= 1 and len(report.chain_hash) == 64
    assert Report.objects.filter(pk=report.pk, file="").count() == 0
