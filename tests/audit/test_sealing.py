"""Events are sealed into the chain as their change commits (PostgreSQL, committed for real):
in the chain when the change is, never without it, in order, one chain."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from governance.audit.canonical import chain_hash
from governance.audit.models import AuditChainHead, AuditEvent, AuditPendingEvent
from governance.audit.services import Target, audit_chain_verify, audit_export_record, audit_record
from governance.audit.triggers import create_triggers, drop_triggers
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system("tests")


@pytest.fixture(autouse=True)
def _postgresql(settings):
    assert connection.vendor == "postgresql"
    assert settings.AUDIT_SEAL == "at_commit"


def record(action: str = "tests.sealed", **fields) -> None:
    with transaction.atomic():
        audit_record(actor=ACTOR, action=action, **fields)


def test_the_event_is_in_the_chain_when_the_change_returns(admin_user):
    system = ai_system_create(
        actor=Actor.for_user(admin_user),
        slug="sealed",
        name="Sealed",
        owner=admin_user,
        risk_tier="low",
    )
    event = AuditEvent.objects.get(target_id=system.slug, action="inventory.system.created")
    assert event.sequence == AuditChainHead.objects.get().sequence
    assert not AuditPendingEvent.objects.exists()


def test_events_are_sealed_at_commit_in_the_order_they_were_recorded():
    with transaction.atomic():
        for i in range(5):
            audit_record(actor=ACTOR, action="tests.batch", target=Target("t", str(i)))
        # inside the transaction nothing is in the chain yet, so no writer waits on its head
        assert not AuditEvent.objects.exists()
        assert AuditPendingEvent.objects.count() == 5
    rows = list(AuditEvent.objects.order_by("sequence").values_list("sequence", "target_id"))
    assert rows == [(1, "0"), (2, "1"), (3, "2"), (4, "3"), (5, "4")]
    assert not AuditPendingEvent.objects.exists()
    assert audit_chain_verify().ok


def test_a_rolled_back_change_leaves_nothing_pending_and_no_gap():
    record()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=ACTOR, action="tests.doomed")
        1 / 0  # noqa: B018 - the change fails after its event was recorded
    record()
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", "action")) == [
        (1, "tests.sealed"),
        (2, "tests.sealed"),
    ]
    assert not AuditPendingEvent.objects.exists()


def test_a_seal_that_fails_at_commit_rolls_the_change_back(admin_user):
    """The change and its event commit together or not at all, at commit time too."""
    record()
    head = AuditChainHead.objects.get()
    # A superuser plants a row where the next event goes: the seal's insert must fail.
    drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (sequence, occurred_at, actor_type, actor_id, "
            "actor_name, ip, user_agent, request_id, action, target_type, target_id, "
            "target_repr, reason, prev_hash, hash) VALUES (%s, now(), 'system', '', 'x', '', "
            "'', '', 'planted', '', '', '', '', %s, %s)",
            [head.sequence + 1, head.hash, "f" * 64],
        )
    create_triggers(connection)
    with pytest.raises(IntegrityError):
        ai_system_create(
            actor=Actor.for_user(admin_user),
            slug="never-committed",
            name="Never committed",
            owner=admin_user,
            risk_tier="low",
        )
    assert not AISystem.objects.filter(slug="never-committed").exists()
    assert not AuditPendingEvent.objects.exists()
    assert AuditChainHead.objects.get().sequence == head.sequence


def test_an_export_names_its_own_event():
    record()
    sequence = audit_export_record(actor=ACTOR, export_format="ndjson")
    assert AuditEvent.objects.get(sequence=sequence).action == "audit.exported"
    assert sequence == 2


def test_the_database_seal_hashes_what_python_hashes():
    """The seal concatenates the canonical JSON that Python cut around the sequence: every
    awkward value must give the hash that chain_hash gives over the row as stored."""
    awkward = [
        {"sequence": 99, "nested": {"sequence": "x", "target_id": "y"}},
        {"quote": 'a "quoted" \\ value', "unicode": "naïve ✓ \U0001d518", "empty": ""},
        {"n": [1, 2.5, -0.0, 1e16, None, True]},
        None,
    ]
    for i, value in enumerate(awkward):
        record(
            target=Target("t", f'id "{i}"', 'repr ,"sequence":0,"target_id":'),
            before=value,
            after={"i": i},
            reason='why ,"sequence":0,"target_id": not',
        )
    rows = AuditEvent.objects.order_by("sequence").values()
    assert len(rows) == len(awkward)
    for row in rows:
        assert chain_hash(row["prev_hash"], row) == row["hash"], row["sequence"]


def test_concurrent_writers_and_exports_make_one_gap_free_chain():
    writers, each = 6, 20
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                record("tests.concurrent", target=Target("t", f"{n}-{i}"))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)
        finally:
            connection.close()

    def exporter() -> None:  # seals as it records, holding the head to its commit
        try:
            barrier.wait()
            for _ in range(10):
                audit_export_record(actor=ACTOR, export_format="ndjson")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    threads.append(threading.Thread(target=exporter))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    total = writers * each + 10
    assert sequences == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total
    assert not AuditPendingEvent.objects.exists()
    assert audit_chain_verify().ok
