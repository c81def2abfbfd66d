"""The standalone verifier on its own: logs, checkpoints and keys built here from the specs
(hashlib, json and cryptography only), never by the product, so the two are checked against
each other rather than against themselves (tests/audit/test_attack.py runs it on the
product's own exports)."""

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VERIFIER = Path(__file__).resolve().parents[1] / "audit_verify.py"
ORIGIN = "example.test/audit-log"
FIELDS = [
    "sequence", "occurred_at", "actor_type", "actor_id", "actor_name", "ip", "user_agent",
    "request_id", "action", "target_type", "target_id", "target_repr", "before", "after",
    "reason",
]  # fmt: skip


def events(n: int) -> list[dict]:
    out, prev = [], "0" * 64
    for i in range(1, n + 1):
        event = {
            "sequence": i,
            "occurred_at": f"2026-10-01T12:00:{i % 60:02d}.000000Z",
            "actor_type": "user",
            "actor_id": str(i % 3),
            "actor_name": f"person {i % 3} ✓",
            "ip": "192.0.2.1",
            "user_agent": "tests",
            "request_id": "",
            "action": "tests.changed",
            "target_type": "tests.thing",
            "target_id": str(i),
            "target_repr": f"thing {i}",
            "before": {"n": i - 1} if i % 2 else None,
            "after": {"n": i, "sequence": i, "nested": {"target_id": "x"}},
            "reason": "why ünïcode" if i % 5 == 0 else "",
        }
        document = json.dumps(
            {k: event[k] for k in FIELDS}, sort_keys=True, separators=(",", ":"),
            ensure_ascii=False,
        )  # fmt: skip
        event["prev_hash"] = prev
        event["hash"] = prev = hashlib.sha256((prev + document).encode()).hexdigest()
        out.append(event)
    return out


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH by its recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def leaves_of(log: list[dict]) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + bytes.fromhex(e["hash"])).digest() for e in log]


def subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
    if m == len(d):
        return [] if complete else [mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*subproof(m, d[:k], complete), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


class Key:
    def __init__(self, name: str) -> None:
        self.name, self.private = name, Ed25519PrivateKey.generate()
        public = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        digest = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()
        self.id = digest[:4]
        encoded = base64.b64encode(b"\x01" + public).decode()
        self.vkey = f"{name}+{self.id.hex()}+{encoded}"

    def sign(self, body: str) -> str:
        signature = base64.b64encode(self.id + self.private.sign(body.encode())).decode()
        return f"{body}\n\u2014 {self.name} {signature}\n"


def checkpoint(key: Key, log: list[dict], size: int, origin: str = ORIGIN) -> str:
    root = base64.b64encode(mth(leaves_of(log[:size]))).decode()
    return key.sign(f"{origin}\n{size}\n{root}\n")


def write(tmp_path: Path, log: list[dict]) -> Path:
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in log))
    return path


def verify(*args: str) -> subprocess.CompletedProcess:
    """As an auditor runs it: its own interpreter, with Django, the product and the network
    made unimportable, so any use of them fails the run."""
    guard = (
        "import sys, runpy, socket\n"
        "for name in ('django', 'governance', 'urllib.request', 'http.client'):\n"
        "    sys.modules[name] = None\n"
        "def refuse(*args, **kwargs):\n"
        "    raise RuntimeError('the verifier tried to use the network')\n"
        "socket.socket = socket.create_connection = socket.getaddrinfo = refuse\n"
        f"sys.argv = [{str(VERIFIER)!r}, *{list(args)!r}]\n"
        f"runpy.run_path({str(VERIFIER)!r}, run_name='__main__')\n"
    )
    return subprocess.run(
        [sys.executable, "-I", "-c", guard], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


@pytest.fixture
def key() -> Key:
    return Key("example.test/audit-2026")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 64, 100])
def test_clean_log_verifies_against_checkpoints_of_any_size(tmp_path, key, size):
    log = events(100)
    note = tmp_path / "cp"
    note.write_text(checkpoint(key, log, size))
    result = verify("--export", str(write(tmp_path, log)), "--checkpoint", str(note),
                    "--key", key.vkey, "--origin", ORIGIN)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"the export's first {size} events match" in result.stdout


def test_changed_event_is_named(tmp_path, key):
    log = events(20)
    log[11]["reason"] = "edited"
    result = verify("--export", str(write(tmp_path, log)))
    assert result.returncode == 1 and "FAIL sequence 12: altered" in result.stdout


def test_removed_event_is_named_as_the_gap(tmp_path):
    log = events(20)
    del log[6]
    result = verify("--export", str(write(tmp_path, log)))
    assert result.returncode == 1 and "FAIL sequence 7: expected sequence 7" in result.stdout


def test_consistent_rewrite_is_caught_by_the_checkpoint_and_named(tmp_path, key):
    log = events(30)
    (tmp_path / "before").write_text(checkpoint(key, log, 25))
    rewritten = events(30)
    rewritten[3]["reason"] = "rewritten"
    prev = rewritten[2]["hash"]
    for event in rewritten[3:]:  # recompute every later hash, as the attacker would
        document = json.dumps({k: event[k] for k in FIELDS}, sort_keys=True,
                              separators=(",", ":"), ensure_ascii=False)  # fmt: skip
        event["prev_hash"] = prev
        event["hash"] = prev = hashlib.sha256((prev + document).encode()).hexdigest()
    export = write(tmp_path, rewritten)
    assert verify("--export", str(export)).returncode == 0  # the chain alone passes
    result = verify("--export", str(export), "--checkpoint", str(tmp_path / "before"),
                    "--key", key.vkey)  # fmt: skip
    assert result.returncode == 1
    assert f"FAIL checkpoint {tmp_path / 'before'}: the export's first 25 events" in result.stdout


def test_truncated_export_is_detected(tmp_path, key):
    log = events(12)
    (tmp_path / "cp").write_text(checkpoint(key, log, 12))
    result = verify("--export", str(write(tmp_path, log[:9])), "--checkpoint",
                    str(tmp_path / "cp"), "--key", key.vkey)  # fmt: skip
    assert result.returncode == 1 and "holds 9: the log was truncated" in result.stdout


def test_untrusted_key_and_bad_signature_are_refused(tmp_path, key):
    log = events(4)
    stranger = Key(key.name)  # the same name, another key: its signature is ignored
    (tmp_path / "stranger").write_text(checkpoint(stranger, log, 4))
    result = verify("--checkpoint", str(tmp_path / "stranger"), "--key", key.vkey)
    assert result.returncode == 1 and "no trusted key signed" in result.stdout
    edited = checkpoint(key, log, 4).replace("\n4\n", "\n3\n", 1)
    (tmp_path / "edited").write_text(edited)
    result = verify("--checkpoint", str(tmp_path / "edited"), "--key", key.vkey)
    assert result.returncode == 1 and "does not verify" in result.stdout


def test_rotated_keys_from_the_well_known_document(tmp_path, key):
    log = events(6)
    old, new = Key("example.test/audit-2025"), key
    (tmp_path / "old").write_text(checkpoint(old, log, 3))
    (tmp_path / "new").write_text(checkpoint(new, log, 6))
    keys = {"origin": ORIGIN, "keys": [{"vkey": new.vkey}, {"vkey": old.vkey}]}
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    result = verify("--export", str(write(tmp_path, log)), "--checkpoint", str(tmp_path / "old"),
                    "--checkpoint", str(tmp_path / "new"), "--keys-file",
                    str(tmp_path / "keys.json"))  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "signed by example.test/audit-2025" in result.stdout
    assert "signed by example.test/audit-2026" in result.stdout


def test_two_roots_for_one_size_is_a_fork(tmp_path, key):
    log, other = events(5), events(6)
    other[4]["hash"] = "ab" * 32  # another event 5: another leaf
    (tmp_path / "a").write_text(checkpoint(key, log, 5))
    (tmp_path / "b").write_text(checkpoint(key, [*log[:4], other[4]], 5))
    result = verify("--checkpoint", str(tmp_path / "a"), "--checkpoint", str(tmp_path / "b"),
                    "--key", key.vkey)  # fmt: skip
    assert result.returncode == 1 and "the log was forked" in result.stdout


@pytest.mark.parametrize(("first", "second"), [(1, 2), (3, 7), (4, 8), (5, 13), (8, 8), (7, 64)])
def test_consistency_proofs_between_checkpoints_without_the_export(tmp_path, key, first, second):
    log = events(second)
    (tmp_path / "a").write_text(checkpoint(key, log, first))
    (tmp_path / "b").write_text(checkpoint(key, log, second))
    data = leaves_of(log)
    path = [] if first == second else subproof(first, data, True)
    proof = {"first": first, "second": second, "consistency_path": [p.hex() for p in path]}
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    args = ["--checkpoint", str(tmp_path / "a"), "--checkpoint", str(tmp_path / "b"), "--key",
            key.vkey, "--consistency-proof", str(tmp_path / "proof.json")]  # fmt: skip
    result = verify(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    if path:
        proof["consistency_path"][-1] = "00" * 32
        (tmp_path / "proof.json").write_text(json.dumps(proof))
        result = verify(*args)
        assert result.returncode == 1 and "are inconsistent" in result.stdout


def test_unusable_input_exits_2(tmp_path):
    (tmp_path / "cp").write_text("x\n")
    result = verify("--checkpoint", str(tmp_path / "cp"), "--key", "not-a-key")
    assert result.returncode == 2 and "not a verifier key" in result.stderr
