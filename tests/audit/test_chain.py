"""The audit log: gap-free, hash-chained, append-only, and every tampering is named."""

import itertools
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction

from governance.audit.canonical import chain_hash
from governance.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from governance.audit.services import Target, audit_chain_verify, audit_record
from governance.audit.triggers import create_triggers, drop_triggers
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db


def append(n: int, actor: Actor | None = None) -> list[AuditEvent]:
    actor = actor or Actor.system("tests")
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="tests.thing.changed",
                target=Target("tests.thing", str(i), f"thing {i}"),
                before={"n": i},
                after={"n": i + 1, "note": "naïve ✓"},
                reason=f"step {i}",
            )
    return list(AuditEvent.objects.order_by("sequence"))[-n:]


def tamper(sql: str, params: list) -> None:
    """What a database superuser can do: lift the triggers and edit rows."""
    drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    create_triggers(connection)


def verify_command(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit", *args)
    return str(excinfo.value)


def test_events_are_numbered_without_gaps_and_linked_by_hash():
    events = append(5)
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    head = AuditChainHead.objects.get()
    assert (head.sequence, head.hash) == (5, events[-1].hash)


def test_stored_hash_matches_recomputation_from_the_row_as_read_back():
    (event,) = append(1)
    row = AuditEvent.objects.values().get(pk=event.pk)
    assert chain_hash(row["prev_hash"], row) == row["hash"]


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=Actor.system("tests"), action="tests.outside")
    assert AuditEvent.objects.count() == 0


def test_update_is_refused_by_the_database():
    (event,) = append(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    event.refresh_from_db()
    assert event.reason == "step 0"


def test_delete_is_refused_by_the_database():
    append(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


def test_truncate_is_refused_on_postgresql():
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"  # SQLite has no TRUNCATE; DELETE covers it
        return
    append(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_clean_chain_verifies(capsys):
    append(4)
    call_command("verify_audit")
    assert "audit chain ok: 4 events, head sequence 4" in capsys.readouterr().out
    assert audit_chain_verify().ok


def test_changed_row_is_named_by_its_sequence():
    append(5)
    tamper("UPDATE audit_auditevent SET reason = %s WHERE sequence = %s", ["nothing to see", 3])
    assert "broken at sequence 3" in verify_command()
    outcome = audit_chain_verify()
    assert (outcome.ok, outcome.first_bad_sequence) == (False, 3)


def test_changed_json_payload_is_caught():
    append(3)
    tamper(
        "UPDATE audit_auditevent SET after = %s WHERE sequence = %s",
        [json.dumps({"n": 999, "note": "naïve ✓"}), 2],
    )
    assert "broken at sequence 2" in verify_command()


def test_rehashed_row_breaks_the_next_link():
    """Recomputing the edited row's own hash does not help: the next event points elsewhere."""
    append(4)
    row = AuditEvent.objects.values().get(sequence=2)
    row["reason"] = "forged"
    forged = chain_hash(row["prev_hash"], row)
    tamper(
        "UPDATE audit_auditevent SET reason = %s, hash = %s WHERE sequence = %s",
        ["forged", forged, 2],
    )
    assert "broken at sequence 3" in verify_command()


def test_deleted_row_is_named_as_the_gap():
    append(5)
    tamper("DELETE FROM audit_auditevent WHERE sequence = %s", [4])
    message = verify_command()
    assert "broken at sequence 4" in message
    assert "missing" in message


def test_deleted_newest_rows_are_caught_by_the_chain_head():
    append(5)
    tamper("DELETE FROM audit_auditevent WHERE sequence >= %s", [4])
    assert "broken at sequence 4" in verify_command()


def test_failed_audit_append_rolls_back_the_change(admin_user, monkeypatch):
    """The change and its event commit together or not at all."""

    def failing_canonical(*args, **kwargs):
        raise IntegrityError("simulated failure while appending")

    monkeypatch.setattr("governance.audit.services.canonical_parts", failing_canonical)
    with pytest.raises(IntegrityError):
        ai_system_create(
            actor=Actor.for_user(admin_user),
            slug="never-saved",
            name="Never saved",
            owner=admin_user,
            risk_tier="low",
        )
    assert not AISystem.objects.filter(slug="never-saved").exists()
    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.filter(sequence__gt=0).count() == 0


def test_rolled_back_change_leaves_no_event_and_no_gap():
    append(1)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=Actor.system("tests"), action="tests.doomed")
        1 / 0  # noqa: B018 - the change fails after its event was appended
    (event,) = append(1)
    assert event.sequence == 2
    call_command("verify_audit")


class TestExport:
    def export(self, tmp_path: Path) -> Path:
        path = tmp_path / "audit.jsonl"
        call_command("export_audit", "--format", "jsonl", "--output", str(path))
        return path

    def test_export_verifies_offline(self, tmp_path, capsys):
        append(6)
        path = self.export(tmp_path)
        lines = path.read_text().splitlines()
        # Six events and the export's own audit event, last.
        assert len(lines) == 7
        assert json.loads(lines[-1])["action"] == "audit.exported"
        assert {"sequence", "prev_hash", "hash", "actor_name", "reason"} <= set(
            json.loads(lines[0])
        )
        capsys.readouterr()
        call_command("verify_audit", "--file", str(path))
        assert "audit chain ok: 7 events, head sequence 7" in capsys.readouterr().out

    def test_edited_export_line_is_named(self, tmp_path):
        append(4)
        path = self.export(tmp_path)
        lines = path.read_text().splitlines()
        doc = json.loads(lines[1])
        doc["actor_name"] = "someone-else"
        lines[1] = json.dumps(doc)
        path.write_text("\n".join(lines) + "\n")
        assert "broken at sequence 2" in verify_command("--file", str(path))

    def test_removed_export_line_is_named(self, tmp_path):
        append(4)
        path = self.export(tmp_path)
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
        assert "broken at sequence 3" in verify_command("--file", str(path))

    def test_partial_export_verifies_from_its_first_link(self, tmp_path, capsys):
        append(5)
        path = tmp_path / "tail.jsonl"
        call_command("export_audit", "--output", str(path), "--since-sequence", "3")
        capsys.readouterr()
        call_command("verify_audit", "--file", str(path))
        # Events 3 to 5 and the export's own event.
        assert "4 events, head sequence 6" in capsys.readouterr().out

    def test_garbage_file_gets_a_clear_error(self, tmp_path):
        path = tmp_path / "bad.jsonl"
        path.write_text('{"sequence": 1}\nnot json\n')
        message = verify_command("--file", str(path))
        assert "broken at sequence 1" in message or "line 2" in message

    def test_missing_file_gets_a_clear_error(self, tmp_path):
        assert "no such file" in verify_command("--file", str(tmp_path / "absent.jsonl"))


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_numbers_jsonb_rewrites_still_verify():
    """jsonb writes 1e+16 as 10000000000000000 and has no -0.0: the hash is over what it keeps
    (make fuzz found an event that no longer verified)."""
    from django.db import connection, transaction

    from governance.audit.services import audit_chain_verify, audit_record
    from governance.core.actor import Actor

    assert connection.vendor == "postgresql"
    with transaction.atomic():
        audit_record(
            actor=Actor.system("tests"),
            action="tests.numbers",
            after={"big": 1.5e300, "e16": 1e16, "zero": -0.0, "tiny": 7.1e-118, "n": [2.0, 3]},
        )
    assert audit_chain_verify().ok


def test_sqlite_seals_as_it_records_and_postgresql_at_commit(settings):
    """make run's SQLite has no commit-time trigger: it seals at once, whatever AUDIT_SEAL says.
    (This test's transaction never commits, so on PostgreSQL the event stays pending.)"""
    settings.AUDIT_SEAL = "at_commit"
    with transaction.atomic():
        audit_record(actor=Actor.system("tests"), action="tests.when_sealed")
    sealed = AuditEvent.objects.filter(action="tests.when_sealed").exists()
    assert sealed == (connection.vendor == "sqlite")
