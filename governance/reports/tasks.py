"""Celery tasks for reports: thin, ids in, a service call."""

from celery import shared_task

from governance.core.outbox import OutboxTask
from governance.reports.services import report_render, report_retention_purge


@shared_task(name="governance.reports.tasks.report_render_task", acks_late=True, base=OutboxTask)
def report_render_task(report_id: int, attempt: int | None = None) -> dict:
    report = report_render(report_id=report_id, attempt=attempt)
    return {"report": str(report.public_id), "status": report.status, "pages": report.pages}


@shared_task(name="governance.reports.tasks.report_retention_purge_task")
def report_retention_purge_task() -> int:
    return report_retention_purge()
