"""Item 6 of issue 15: a database superuser rewrites history consistently. The chain alone
cannot tell; a checkpoint signed before the rewrite can, in verify_audit and in the
standalone verifier (which runs here as an auditor would: its own process, no Django)."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from governance.audit.canonical import chain_hash
from governance.audit.models import AuditEvent
from governance.audit.selectors import audit_public_keys
from governance.audit.services import audit_chain_verify
from governance.audit.signing import checkpoint_body, generate_signing_key, sign_note
from governance.audit.triggers import create_triggers, drop_triggers
from tests.audit.test_chain import append

pytestmark = pytest.mark.django_db
VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "audit_verify.py"


def as_superuser(statements: list[tuple[str, list]]) -> None:
    """PostgreSQL: a superuser switches triggers off for the session (replica role), which is
    what an administrator with full rights can do. SQLite has no roles: drop the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone()[0], "the attack test needs a database superuser"
            cursor.execute("SET session_replication_role = replica")
            try:
                for sql, params in statements:
                    cursor.execute(sql, params)
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
        else:
            drop_triggers(connection)
            for sql, params in statements:
                cursor.execute(sql, params)
            create_triggers(connection)


def rewrite_from(sequence: int, reason: str) -> None:
    """Change one event and recompute every later hash and the chain head consistently."""
    rows = list(AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence").values())
    prev = rows[0]["prev_hash"]
    statements = []
    for row in rows:
        if row["sequence"] == sequence:
            row["reason"] = reason
        row["prev_hash"] = prev
        row["hash"] = chain_hash(prev, row)
        statements.append(
            (
                "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s "
                "WHERE sequence = %s",
                [row["reason"], row["prev_hash"], row["hash"], row["sequence"]],
            )
        )
        prev = row["hash"]
    statements.append(("UPDATE audit_auditchainhead SET hash = %s WHERE id = 1", [prev]))
    as_superuser(statements)


def checkpoint_file(tmp_path: Path, name: str = "q3.checkpoint") -> Path:
    path = tmp_path / name
    call_command("audit_checkpoint", "--out", str(path))
    return path


def export(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    call_command("export_audit", "--format", "jsonl", "--output", str(path))
    return path


def standalone(*args: str) -> subprocess.CompletedProcess:
    # -I: isolated mode, no site-packages of the project on the path beyond the venv's own;
    # the verifier imports nothing of the product (asserted in tools/tests).
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def key_args() -> list[str]:
    return [arg for key in audit_public_keys() for arg in ("--key", key["vkey"])]


def test_consistent_rewrite_passes_the_chain_but_fails_every_earlier_checkpoint(tmp_path, capsys):
    append(12)
    last_quarter = checkpoint_file(tmp_path)  # signed over events 1..12
    append(5)
    yesterday = checkpoint_file(tmp_path, "yesterday.checkpoint")  # 1..17
    rewrite_from(7, "nothing happened here")

    # What the hash chain alone says: all fine. That is the weakness this issue fixes.
    call_command("verify_audit")
    assert audit_chain_verify().ok
    assert AuditEvent.objects.get(sequence=7).reason == "nothing happened here"

    for checkpoint in (last_quarter, yesterday):
        with pytest.raises(CommandError) as excinfo:
            call_command("verify_audit", "--checkpoint", str(checkpoint))
        assert f"checkpoint {checkpoint} fails" in str(excinfo.value)
        assert "rewritten after this checkpoint was signed" in str(excinfo.value)

    # The stored tree is append-only and was built before the rewrite: a checkpoint signed
    # now still signs the true history, and the rewritten export fails it too. (Signed before
    # the export: export_audit is audited, and its event links to the forged head.)
    capsys.readouterr()
    later = checkpoint_file(tmp_path, "after.checkpoint")
    jsonl = export(tmp_path)
    result = standalone("--export", str(jsonl), "--checkpoint", str(last_quarter), *key_args())
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL checkpoint {last_quarter}: the export's first 12 events do not hash" in (
        result.stdout
    )
    result = standalone(
        "--export", str(jsonl), "--checkpoint", str(later), "--checkpoint", str(yesterday),
        *key_args(),
    )  # fmt: skip
    assert result.returncode == 1
    assert "events do not hash to the signed root" in result.stdout
    # New events link to the forged head, not to what the tree holds: no checkpoint is signed
    # over them until someone looks.
    append(1)
    with pytest.raises(CommandError, match="refusing to sign: the audit chain is broken"):
        call_command("audit_checkpoint")


def test_untouched_log_verifies_against_its_checkpoints(tmp_path, capsys):
    append(9)
    first = checkpoint_file(tmp_path, "a.checkpoint")
    append(4)
    second = checkpoint_file(tmp_path, "b.checkpoint")
    capsys.readouterr()
    call_command("verify_audit", "--checkpoint", str(first), "--checkpoint", str(second))
    out = capsys.readouterr().out
    assert f"checkpoint {first} ok: the first 9 events" in out
    assert f"checkpoint {second} ok: the first 13 events" in out
    result = standalone(
        "--export", str(export(tmp_path)), "--checkpoint", str(first), "--checkpoint",
        str(second), *key_args(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   export" in result.stdout and result.stdout.strip().endswith("verified")


def test_truncated_log_is_detected(tmp_path):
    append(10)
    checkpoint = checkpoint_file(tmp_path)
    # Remove the newest events and move the head back: the chain that is left is intact.
    head = AuditEvent.objects.values_list("hash", flat=True).get(sequence=7)
    as_superuser(
        [
            ("DELETE FROM audit_auditevent WHERE sequence > %s", [7]),
            ("UPDATE audit_auditchainhead SET sequence = 7, hash = %s WHERE id = 1", [head]),
        ]
    )
    call_command("verify_audit")
    with pytest.raises(CommandError, match="holds 7 events but the checkpoint signed 10"):
        call_command("verify_audit", "--checkpoint", str(checkpoint))
    result = standalone("--export", str(export(tmp_path)), "--checkpoint", str(checkpoint),
                        *key_args())  # fmt: skip
    assert result.returncode == 1
    # 7 events left, and the export's own audit event (export_audit is audited).
    assert "signed 10 events but the export holds 8: the log was truncated" in result.stdout


def test_checkpoint_signed_by_an_untrusted_key_is_refused(tmp_path):
    append(3)
    good = checkpoint_file(tmp_path)
    forged_root = bytes(32)
    stranger = generate_signing_key(audit_public_keys()[0]["name"])  # same name, other key
    forged = tmp_path / "forged.checkpoint"
    note = sign_note(checkpoint_body("governance.localhost/audit-log", 3, forged_root), [stranger])
    forged.write_text(note)
    with pytest.raises(CommandError, match="no trusted key signed this note"):
        call_command("verify_audit", "--checkpoint", str(forged))
    result = standalone("--checkpoint", str(forged), *key_args())
    assert result.returncode == 1
    assert "refused: no trusted key signed this checkpoint" in result.stdout
    # A trusted key's signature that does not verify (the note was edited) is refused too.
    edited = tmp_path / "edited.checkpoint"
    edited.write_text(good.read_text().replace("\n3\n", "\n2\n", 1))
    result = standalone("--checkpoint", str(edited), *key_args())
    assert result.returncode == 1
    assert "does not verify" in result.stdout
