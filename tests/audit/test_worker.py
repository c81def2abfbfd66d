"""The scheduled chain verification runs in a real Celery worker against PostgreSQL."""

import time

import pytest
from django.conf import settings
from django.db import transaction

from governance.audit.models import AuditChainVerification
from governance.audit.services import Target, audit_record
from governance.audit.tasks import audit_chain_verify_task
from governance.celery import app
from governance.core.actor import Actor


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_verifies_the_chain_and_records_the_outcome(celery_worker_process):
    for i in range(3):
        with transaction.atomic():
            audit_record(
                actor=Actor.system("tests"), action="tests.event", target=Target("t", str(i))
            )
    # No result backend: the outcome is the verification row the worker records.
    audit_chain_verify_task.delay()
    deadline = time.monotonic() + 30
    while not AuditChainVerification.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    recorded = AuditChainVerification.objects.get()
    assert (recorded.ok, recorded.head_sequence) == (True, 3)
