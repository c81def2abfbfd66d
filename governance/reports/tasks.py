"""Celery tasks for reports: thin, ids in, a service call."""

from celery import shared_task

from governance.reports.services import report_render, report_retention_purge, report_stale_fail


@shared_task(name="governance.reports.tasks.report_render_task", acks_late=True)
def report_render_task(report_id: int) -> dict:
    report = report_render(report_id=report_id)
    return {"report": str(report.public_id), "status": report.status, "pages": report.pages}


@shared_task(name="governance.reports.tasks.report_stale_fail_task")
def report_stale_fail_task() -> int:
    return report_stale_fail()


@shared_task(name="governance.reports.tasks.report_retention_purge_task")
def report_retention_purge_task() -> int:
    return report_retention_purge()
