"""Celery tasks for the audit log: thin, they call a service."""

from celery import shared_task

from governance.audit.services import audit_chain_verify


@shared_task(name="governance.audit.tasks.audit_chain_verify_task")
def audit_chain_verify_task() -> dict:
    outcome = audit_chain_verify()
    return {
        "verification_id": outcome.pk,
        "ok": outcome.ok,
        "events_checked": outcome.events_checked,
        "first_bad_sequence": outcome.first_bad_sequence,
    }
