"""Concurrent writers on PostgreSQL never fork the chain or leave a gap."""

import threading

import pytest
from django.db import connection, transaction

from governance.audit.models import AuditEvent
from governance.audit.services import Target, audit_chain_verify, audit_record
from governance.core.actor import Actor

WRITERS, EACH = 6, 25


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_stay_one_gap_free_chain():
    assert connection.vendor == "postgresql"
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(EACH):
                with transaction.atomic():
                    audit_record(
                        actor=Actor.system(f"writer-{n}"),
                        action="tests.concurrent",
                        target=Target("t", f"{n}-{i}"),
                    )
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, WRITERS * EACH + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == WRITERS * EACH
    assert audit_chain_verify().ok
