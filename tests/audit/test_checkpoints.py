"""Signed checkpoints: keys, rotation, the public key URL, the proofs API, witnesses, and RFC
3161 time-stamps from a real TSA (OpenSSL's ``openssl ts -reply``, with a CA made here)."""

import base64
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.accounts.models import Role
from governance.audit import merkle
from governance.audit.checkpoints import audit_checkpoint_check, audit_checkpoint_create
from governance.audit.keys import _signing_key
from governance.audit.models import AuditCheckpoint
from governance.audit.signing import generate_signing_key, open_note, parse_checkpoint
from governance.audit.tree import tree_root
from tests.audit.test_attack import VERIFIER
from tests.audit.test_chain import append

pytestmark = pytest.mark.django_db
PORTS = range(8170, 8180)


@pytest.fixture(autouse=True)
def _fresh_keys():
    _signing_key.cache_clear()
    yield
    _signing_key.cache_clear()


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
    pytest.fail("no free port in 8170-8179")


def test_checkpoint_is_a_signed_c2sp_note_over_the_tree_root(settings):
    append(11)
    checkpoint = audit_checkpoint_create(trigger="manual", label="tests")
    key = generate_signing_key("unused")  # other keys do not open it
    with pytest.raises(ValueError, match="no trusted key"):
        open_note(checkpoint.note, [key.verifier])
    from governance.audit.keys import signing_key

    opened = open_note(checkpoint.note, [signing_key().verifier])
    parsed = parse_checkpoint(opened.body)
    assert (parsed.origin, parsed.size) == (settings.AUDIT_LOG_ORIGIN, 11)
    assert parsed.root == tree_root(11) and checkpoint.root_hash == parsed.root.hex()
    lines = checkpoint.note.split("\n")
    assert lines[3] == "" and lines[4].startswith("\u2014 " + signing_key().name + " ")
    assert checkpoint.key_id == signing_key().verifier.id_hex


def test_scheduled_checkpoint_is_not_repeated_for_an_unchanged_log():
    append(2)
    first = audit_checkpoint_create(trigger="schedule")
    assert audit_checkpoint_create(trigger="schedule").pk == first.pk
    append(1)
    assert audit_checkpoint_create(trigger="schedule").tree_size == 3
    assert AuditCheckpoint.objects.count() == 2


def test_rotation_keeps_old_checkpoints_verifiable_and_each_names_its_signer(settings):
    append(3)
    old = audit_checkpoint_create(trigger="manual")
    old_key = settings.AUDIT_SIGNING_KEY
    from governance.audit.signing import parse_signing_key

    settings.AUDIT_SIGNING_KEY = generate_signing_key("tests.governance.localhost/k2").skey
    _signing_key.cache_clear()
    append(2)
    new = audit_checkpoint_create(trigger="manual")
    assert new.key_name == "tests.governance.localhost/k2" and old.key_name != new.key_name
    assert not audit_checkpoint_check(old.note).ok  # the old key is no longer trusted...
    settings.AUDIT_TRUSTED_KEYS = [parse_signing_key(old_key).verifier.vkey]
    assert audit_checkpoint_check(old.note).ok  # ...until it is listed
    assert audit_checkpoint_check(new.note).ok


def test_public_keys_are_served_to_anyone(client, settings):
    from governance.audit.keys import signing_key

    settings.AUDIT_TRUSTED_KEYS = [generate_signing_key("old.example/audit").verifier.vkey]
    body = client.get("/.well-known/audit-log-keys").json()
    assert body["origin"] == settings.AUDIT_LOG_ORIGIN
    current, old = body["keys"]
    assert current["vkey"] == signing_key().verifier.vkey and current["current"]
    assert old["name"] == "old.example/audit" and not old["current"]
    assert base64.b64decode(current["public_key"]) == signing_key().verifier.public


def test_explorer_shows_the_public_key_and_latest_checkpoint(client_for):
    from governance.audit.keys import signing_key

    append(2)
    audit_checkpoint_create(trigger="manual")
    page = client_for(Role.AUDITOR).get("/audit/").content.decode()
    assert signing_key().verifier.vkey in page
    assert "Latest checkpoint: <strong>2</strong> events" in page


class TestProofsApi:
    def test_inclusion_proof_verifies_against_the_signed_root(self, client_for):
        append(13)
        checkpoint = audit_checkpoint_create(trigger="manual")
        body = client_for(Role.AUDITOR).get("/api/v1/audit/events/6/proof").json()
        assert body["tree_size"] == 13 and body["checkpoint"] == checkpoint.note
        root = merkle.root_from_inclusion(
            5,
            13,
            bytes.fromhex(body["leaf_hash"]),
            [bytes.fromhex(n) for n in body["inclusion_path"]],
        )
        assert root.hex() == body["root_hash"] == checkpoint.root_hash
        assert bytes.fromhex(body["leaf_hash"]) == merkle.leaf_hash(body["event_hash"])

    def test_consistency_proof_between_two_checkpoints(self, client_for, tmp_path):
        append(5)
        first = audit_checkpoint_create(trigger="manual")
        append(6)
        second = audit_checkpoint_create(trigger="manual")
        response = client_for(Role.AUDITOR).get(
            "/api/v1/audit/checkpoints/consistency", {"first": 5, "second": 11}
        )
        body = response.json()
        assert body["first_checkpoint"] == first.note and body["second_checkpoint"] == second.note
        path = [bytes.fromhex(n) for n in body["consistency_path"]]
        assert merkle.verify_consistency(
            5, 11, bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash), path
        )
        # The standalone verifier checks the same proof with only the two notes and the key.
        from governance.audit.selectors import audit_public_keys

        (tmp_path / "a").write_text(first.note)
        (tmp_path / "b").write_text(second.note)
        (tmp_path / "proof.json").write_bytes(response.content)
        args = ["--checkpoint", str(tmp_path / "a"), "--checkpoint", str(tmp_path / "b")]
        args += ["--key", audit_public_keys()[0]["vkey"]]
        run = [sys.executable, "-I", str(VERIFIER), *args]
        ok = subprocess.run([*run, "--consistency-proof", str(tmp_path / "proof.json")],
                            capture_output=True, text=True, check=False)  # fmt: skip
        assert ok.returncode == 0, ok.stdout + ok.stderr
        body["consistency_path"][0] = "00" * 32
        (tmp_path / "bad.json").write_text(__import__("json").dumps(body))
        bad = subprocess.run([*run, "--consistency-proof", str(tmp_path / "bad.json")],
                             capture_output=True, text=True, check=False)  # fmt: skip
        assert bad.returncode == 1 and "are inconsistent" in bad.stdout

    @pytest.mark.parametrize(
        ("url", "field"),
        [
            ("/api/v1/audit/events/3/proof?tree_size=2", "tree_size"),
            ("/api/v1/audit/events/3/proof?tree_size=99", "tree_size"),
            ("/api/v1/audit/events/3/proof?tree_size=x", "tree_size"),
            ("/api/v1/audit/checkpoints/consistency?first=4&second=2", "first"),
            ("/api/v1/audit/checkpoints/consistency?first=1&second=99", "second"),
            ("/api/v1/audit/checkpoints/consistency?second=2", "first"),
        ],
    )
    def test_bad_input_is_a_problem_with_the_field(self, client_for, url, field):
        append(4)
        response = client_for(Role.AUDITOR).get(url)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/problem+json")
        assert field in str(response.json())

    def test_unknown_event_is_404_and_other_roles_are_refused(self, client_for):
        append(2)
        assert client_for(Role.AUDITOR).get("/api/v1/audit/events/9/proof").status_code == 404
        for role in (Role.ADMIN, Role.VIEWER, None):
            assert client_for(role).get("/api/v1/audit/events/1/proof").status_code in (401, 403)

    def test_checkpoint_list(self, client_for):
        append(2)
        audit_checkpoint_create(trigger="manual", label="by hand")
        (row,) = client_for(Role.AUDITOR).get("/api/v1/audit/checkpoints").json()["results"]
        assert row["label"] == "by hand" and row["tree_size"] == 2
        assert row["timestamp_token"] is None


class Witness(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Witness.received.append((self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_each_checkpoint_is_pushed_to_the_witnesses(
    settings, django_capture_on_commit_callbacks, tasks_in_process
):
    server = serve(Witness)
    try:
        settings.AUDIT_WITNESS_URLS = [f"http://127.0.0.1:{server.server_port}/witness"]
        append(3)
        with django_capture_on_commit_callbacks(execute=True):
            checkpoint = audit_checkpoint_create(trigger="manual")
    finally:
        server.shutdown()
    assert Witness.received == [("text/plain; charset=utf-8", checkpoint.note.encode())]


def test_witness_push_refuses_internal_addresses_by_default(settings):
    from governance.audit.checkpoints import audit_checkpoint_push

    settings.OUTBOUND_ALLOWED_NETWORKS = []
    settings.AUDIT_WITNESS_URLS = ["http://127.0.0.1:8179/witness"]
    append(1)
    checkpoint = audit_checkpoint_create(trigger="manual")
    assert audit_checkpoint_push(checkpoint_id=checkpoint.pk) == settings.AUDIT_WITNESS_URLS


# --- RFC 3161, against OpenSSL's time-stamping server functions ------------------------------


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def tsa(tmp_path_factory):
    """A throwaway CA, a time-stamping certificate it issued, and an HTTP front for
    ``openssl ts -reply`` (the TSA itself is OpenSSL's)."""
    d = tmp_path_factory.mktemp("tsa")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=Throwaway TSA CA", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            cwd=d)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
            "-subj", "/CN=Throwaway TSA", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text(
        "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
        "basicConstraints=CA:FALSE\n"
    )
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.pem", "-days", "1", "-extfile", "ext.cnf",
            cwd=d)  # fmt: skip
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(
        f"""[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {d}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
    )
    lock = threading.Lock()

    class Tsa(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (d / "q.tsq").write_bytes(query)
                openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq", "-out",
                        "r.tsr", cwd=d)  # fmt: skip
                reply = (d / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = serve(Tsa)
    yield d, f"http://127.0.0.1:{server.server_port}/tsa"
    server.shutdown()


def test_checkpoints_are_time_stamped_by_a_real_tsa_and_verified(settings, tsa, tmp_path, capsys):
    from governance.audit.selectors import audit_public_keys

    directory, url = tsa
    settings.AUDIT_TSA_URL, settings.AUDIT_TSA_CA_FILE = url, str(directory / "ca.pem")
    append(6)
    out = tmp_path / "cp.checkpoint"
    call_command("audit_checkpoint", "--out", str(out))
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.timestamped_at is not None and checkpoint.timestamp_error == ""
    token = tmp_path / "cp.checkpoint.tsr"
    assert token.read_bytes() == bytes(checkpoint.timestamp_token)
    # OpenSSL itself agrees the token covers the checkpoint's bytes and chains to the CA.
    verified = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(out), "-in", str(token), "-CAfile",
         str(directory / "ca.pem")], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Verification: OK" in verified.stdout, verified.stdout + verified.stderr
    capsys.readouterr()
    call_command("verify_audit", "--checkpoint", str(out))
    assert f"checkpoint {out} time-stamped" in capsys.readouterr().out
    run = [sys.executable, "-I", str(VERIFIER), "--checkpoint", str(out), "--key",
           audit_public_keys()[0]["vkey"]]  # fmt: skip
    result = subprocess.run([*run, "--tsa-ca", str(directory / "ca.pem")],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "by CN=Throwaway TSA (trusted CA)" in result.stdout
    # Another CA is not trusted; a token moved beside another checkpoint covers other data.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "o.key", "-out",
            "other.pem", "-days", "1", "-subj", "/CN=Other CA", cwd=tmp_path)  # fmt: skip
    other = subprocess.run([*run, "--tsa-ca", str(tmp_path / "other.pem")],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert other.returncode == 1 and "not issued by a trusted TSA CA" in other.stdout
    append(1)
    moved = tmp_path / "later.checkpoint"
    call_command("audit_checkpoint", "--out", str(moved))
    (tmp_path / "later.checkpoint.tsr").write_bytes(token.read_bytes())
    run[4] = str(moved)
    result = subprocess.run(run, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "covers other data" in result.stdout
    with pytest.raises(CommandError, match="time-stamp does not verify"):
        call_command("verify_audit", "--checkpoint", str(moved))


def test_an_unreachable_tsa_is_recorded_and_the_checkpoint_still_signed(settings):
    settings.AUDIT_TSA_URL = "http://127.0.0.1:8179/nothing-listens"
    append(1)
    checkpoint = audit_checkpoint_create(trigger="manual")
    assert checkpoint.timestamp_token is None and "unreachable" in checkpoint.timestamp_error


def test_keygen_prints_a_usable_signing_key_and_its_verifier_key(capsys):
    from governance.audit.signing import parse_signing_key, parse_verifier_key

    call_command("audit_keygen", "--name", "governance.example.com/audit-2027")
    captured = capsys.readouterr()
    key = parse_signing_key(captured.out)
    assert parse_verifier_key(captured.err.split("verifier key: ")[1]) == key.verifier
    with pytest.raises(Exception, match="without spaces"):
        call_command("audit_keygen", "--name", "has space")


def test_development_key_is_created_once_in_its_file(settings, tmp_path):
    from governance.audit.keys import signing_key

    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_DEV_SIGNING_KEY_FILE = tmp_path / "var" / "audit-signing.key"
    key = signing_key()
    assert (tmp_path / "var" / "audit-signing.key").stat().st_mode & 0o777 == 0o600
    _signing_key.cache_clear()
    assert signing_key() == key  # read back, not made again


def test_key_file_and_disabled_signing(settings, tmp_path):
    from governance.audit.keys import SigningDisabled, signing_key
    from governance.audit.tasks import audit_checkpoint_task

    path = tmp_path / "signing.key"
    path.write_text(generate_signing_key("file.example/audit").skey + "\n")
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_KEY_FILE = "", str(path)
    assert signing_key().name == "file.example/audit"
    append(1)
    assert audit_checkpoint_task()["tree_size"] == 1
    settings.AUDIT_SIGNING_DISABLED = True
    with pytest.raises(SigningDisabled):
        signing_key()
    assert "disabled" in audit_checkpoint_task()["skipped"]
    with pytest.raises(Exception, match="AUDIT_SIGNING_DISABLED"):
        call_command("audit_checkpoint")


def test_checkpoints_are_append_only():
    from django.db import DatabaseError, transaction

    append(1)
    audit_checkpoint_create(trigger="manual")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.update(root_hash="0" * 64)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
