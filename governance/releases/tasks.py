"""Celery tasks for releases: thin, a service call."""

from celery import shared_task

from governance.releases.expiry import releases_expire


@shared_task(name="governance.releases.tasks.releases_expire_task")
def releases_expire_task() -> dict:
    """Beat: void approvals past RELEASE_APPROVAL_TTL_HOURS and expire stale requests."""
    return releases_expire()
