#!/usr/bin/env python3
"""Verify a governance audit log on your own machine: no server, no database, no network.

    python audit_verify.py --export audit.jsonl --checkpoint q3.checkpoint --key VKEY

Needs Python 3.11+ and one library, ``cryptography`` (Ed25519, and the RFC 3161 token's
signature). Checks, and names the first thing that fails:

- every event's hash (SHA-256 of the previous hash and the event's canonical JSON), the links
  between events and their gap-free sequence numbers (``--export``, a JSONL export);
- each signed checkpoint (C2SP tlog-checkpoint in the signed-note format): its Ed25519
  signature by a trusted key (``--key`` or ``--keys-file``; a checkpoint signed by any other key
  is refused), and that the export's first N events hash to its Merkle root (RFC 9162); an
  export shorter than a checkpoint is a truncated log;
- two checkpoints of one log against each other: both roots from the same export, or, without
  the export, a consistency proof from the API (``--consistency-proof``);
- the RFC 3161 time-stamp token beside a checkpoint (``FILE.tsr``): it covers the checkpoint's
  bytes and is signed by the time-stamping authority (chained to ``--tsa-ca`` when given).

Exit status: 0 when everything verified, 1 when something failed, 2 for unusable input.
"""

import argparse
import base64
import hashlib
import json
import struct
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
# The fields the chain hash covers, in canonical JSON (sorted keys, no spaces, UTF-8).
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "ip",
    "user_agent",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "reason",
)
DASH = "\u2014 "


class Failure(Exception):
    """Verification failed; the message names what and where."""


class Unusable(Exception):
    """The input cannot be read as what it claims to be."""


# --- The hash chain ------------------------------------------------------------------------


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    document = {name: event[name] for name in HASHED_FIELDS}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def read_export(path: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise Unusable(f"{path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise Failure(f"export line {number} is not JSON ({exc.msg})") from None
            if not isinstance(event, dict):
                raise Failure(f"export line {number} is not a JSON object")
            yield event


def verify_chain(events: Iterator[dict[str, Any]]) -> list[str]:
    """Check the chain from sequence 1; returns the event hashes in order."""
    hashes_in_order: list[str] = []
    prev, expected = GENESIS_HASH, 1
    for event in events:
        sequence = event.get("sequence")
        if sequence != expected:
            gap = isinstance(sequence, int) and sequence > expected
            raise Failure(
                f"sequence {expected if gap else sequence}: expected sequence {expected}, found "
                f"{sequence} (events missing or out of order)"
            )
        if event.get("prev_hash") != prev:
            raise Failure(f"sequence {sequence}: does not link to the event before it")
        try:
            recomputed = chain_hash(prev, event)
        except (KeyError, TypeError) as exc:
            raise Failure(f"sequence {sequence}: malformed event ({exc})") from None
        if recomputed != event.get("hash"):
            raise Failure(f"sequence {sequence}: altered (its content does not match its hash)")
        prev = event["hash"]
        hashes_in_order.append(prev)
        expected += 1
    return hashes_in_order


# --- The Merkle tree (RFC 9162) ------------------------------------------------------------


def leaf_hash(event_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(event_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_roots(event_hashes: list[str], sizes: set[int]) -> dict[int, bytes]:
    """The roots of the trees of the given sizes, in one pass over the leaves."""
    roots: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []
    if 0 in sizes:
        roots[0] = hashlib.sha256(b"").digest()
    for count, event_hash in enumerate(event_hashes, start=1):
        node, height = leaf_hash(event_hash), 0
        while stack and stack[-1][0] == height:
            node = node_hash(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
        if count in sizes:
            root = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                root = node_hash(left, root)
            roots[count] = root
    return roots


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


# --- Keys and signed notes (C2SP signed-note) ----------------------------------------------


def key_id(name: str, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()
    return struct.unpack(">I", digest[:4])[0]


def parse_vkey(text: str) -> tuple[str, int, bytes]:
    parts = text.strip().split("+", 2)  # base64 may hold '+'; names and ids do not
    if len(parts) != 3:
        raise Unusable(f"not a verifier key (NAME+KEYID+BASE64): {text.strip()[:60]!r}")
    name, id_hex, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise Unusable(f"verifier key {name}: not base64") from None
    if len(raw) != 33 or raw[0] != 0x01:
        raise Unusable(f"verifier key {name}: not an Ed25519 key")
    if f"{key_id(name, raw[1:]):08x}" != id_hex.lower():
        raise Unusable(f"verifier key {name}: the key id does not match the key")
    return name, key_id(name, raw[1:]), raw[1:]


def load_keys(keys: list[str], files: list[Path]) -> list[tuple[str, int, bytes]]:
    texts = list(keys)
    for path in files:
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise Unusable(f"{path}: {exc.strerror}") from None
        if content.lstrip().startswith("{"):  # the JSON of /.well-known/audit-log-keys
            texts += [key["vkey"] for key in json.loads(content)["keys"]]
        else:
            texts += [line for line in content.splitlines() if line.strip()]
    return [parse_vkey(text) for text in texts]


def open_note(note: str, trusted: list[tuple[str, int, bytes]]) -> tuple[str, str]:
    """Returns the note text and 'name (id)' of the trusted key that signed it."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise Failure("not a signed note: control characters")
    body, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise Failure("not a signed note: no signature lines")
    body += "\n"
    known = {(name, kid): public for name, kid, public in trusted}
    signer = ""
    for line in signatures[:-1].split("\n"):
        if not line.startswith(DASH):
            raise Failure("not a signed note: a signature line must start with an em dash")
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise Failure(f"the signature by {name} is not base64") from None
        if len(raw) < 5:
            raise Failure(f"the signature by {name} is too short")
        (kid,) = struct.unpack(">I", raw[:4])
        public = known.get((name, kid))
        if public is None:
            continue  # the spec: ignore signatures by unknown keys
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
        except InvalidSignature:
            raise Failure(f"the signature by {name} ({kid:08x}) does not verify") from None
        signer = signer or f"{name} ({kid:08x})"
    if not signer:
        raise Failure("refused: no trusted key signed this checkpoint")
    return body, signer


def parse_checkpoint(body: str) -> tuple[str, int, bytes]:
    lines = body.split("\n")
    if len(lines) < 4:
        raise Failure("not a checkpoint: it needs an origin, a tree size and a root hash")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit():
        raise Failure(f"not a checkpoint: tree size {size!r}")
    try:
        digest = base64.b64decode(root, validate=True)
    except ValueError:
        raise Failure("not a checkpoint: the root hash is not base64") from None
    if len(digest) != 32:
        raise Failure("not a checkpoint: the root hash is not 32 bytes")
    return origin, int(size), digest


# --- RFC 3161 time-stamp tokens (a minimal DER reader, enough for TimeStampResp) ------------

OID_HASHES = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


def der(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """(tag, content start, content end) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element in a range."""
    out, pos = [], start
    while pos < end:
        tag, content, stop = der(data, pos)
        out.append((tag, pos, content, stop))
        pos = stop
    return out


def oid(data: bytes) -> str:
    first, rest = divmod(data[0], 40) if data[0] < 80 else (2, data[0] - 80)
    parts, value = [first, rest], 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def verify_timestamp(token: bytes, message: bytes, cas: list[x509.Certificate]) -> str:
    """Check a TimeStampResp over ``message``; returns a description of who stamped it when."""
    try:
        return _verify_timestamp(token, message, cas)
    except (ValueError, IndexError, KeyError) as exc:
        raise Failure(f"the time-stamp token is malformed ({exc})") from None


def _verify_timestamp(token: bytes, message: bytes, cas: list[x509.Certificate]) -> str:
    _, s, e = der(token)
    resp = children(token, s, e)
    status_info = children(token, resp[0][2], resp[0][3])
    status = int.from_bytes(token[status_info[0][2] : status_info[0][3]], "big")
    if status not in (0, 1) or len(resp) < 2:
        raise Failure(f"the time-stamp authority refused the request (status {status})")
    content_info = children(token, resp[1][2], resp[1][3])
    signed_data = children(token, *der(token, content_info[1][2])[1:])
    encap = children(token, signed_data[2][2], signed_data[2][3])
    _, os_start, os_end = der(token, encap[1][2])
    tst_info = token[os_start:os_end]
    certificates = []
    signer_infos = None
    for tag, _start, content, end in signed_data[3:]:
        if tag == 0xA0:
            certificates = [
                x509.load_der_x509_certificate(token[c_start:c_end])
                for _, c_start, _, c_end in children(token, content, end)
            ]
        elif tag == 0x31:
            signer_infos = children(token, content, end)
    if not signer_infos:
        raise Failure("the time-stamp token has no signer")
    signer = children(token, signer_infos[0][2], signer_infos[0][3])
    sid = children(token, signer[1][2], signer[1][3])
    serial = int.from_bytes(token[sid[1][2] : sid[1][3]], "big", signed=True)
    issuer_der = token[sid[0][1] : sid[0][3]]
    digest_oid = oid(token[slice(*children(token, signer[2][2], signer[2][3])[0][2:])])
    hash_cls = OID_HASHES.get(digest_oid)
    if hash_cls is None:
        raise Failure(f"the time-stamp token uses an unsupported digest {digest_oid}")
    attrs_tag, attrs_start, attrs_content, attrs_end = signer[3]
    if attrs_tag != 0xA0:
        raise Failure("the time-stamp token has no signed attributes")
    message_digest = None
    for _, _, a_content, a_end in children(token, attrs_content, attrs_end):
        parts = children(token, a_content, a_end)
        if oid(token[parts[0][2] : parts[0][3]]) == OID_MESSAGE_DIGEST:
            value = children(token, parts[1][2], parts[1][3])[0]
            message_digest = token[value[2] : value[3]]
    content_digest = hashes.Hash(hash_cls())
    content_digest.update(tst_info)
    if message_digest != content_digest.finalize():
        raise Failure("the time-stamp token's signed digest does not match its content")
    signature = token[signer[5][2] : signer[5][3]]
    signed_attrs = b"\x31" + token[attrs_start + 1 : attrs_end]
    signing_cert = next(
        (
            c
            for c in certificates
            if c.serial_number == serial and c.issuer.public_bytes() == issuer_der
        ),
        None,
    )
    if signing_cert is None:
        raise Failure("the time-stamp token does not carry its signer's certificate")
    public = signing_cert.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, signed_attrs, padding.PKCS1v15(), hash_cls())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, signed_attrs, ec.ECDSA(hash_cls()))
        else:
            raise Failure("the time-stamp token is signed with an unsupported key type")
    except InvalidSignature:
        raise Failure("the time-stamp token's signature does not verify") from None
    info = children(tst_info, *der(tst_info)[1:])
    imprint = children(tst_info, info[2][2], info[2][3])
    imprint_alg = oid(tst_info[slice(*children(tst_info, imprint[0][2], imprint[0][3])[0][2:])])
    imprint_hash = OID_HASHES.get(imprint_alg)
    if imprint_hash is None:
        raise Failure(f"the time-stamp covers a digest of unsupported type {imprint_alg}")
    expected = hashes.Hash(imprint_hash())
    expected.update(message)
    if tst_info[imprint[1][2] : imprint[1][3]] != expected.finalize():
        raise Failure("the time-stamp covers other data than this checkpoint")
    gen_time = tst_info[info[4][2] : info[4][3]].decode()
    stamped = datetime.strptime(gen_time[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    subject = signing_cert.subject.rfc4514_string()
    if cas:
        try:
            eku = signing_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            raise Failure("the time-stamp signer's certificate is not for time-stamping") from None
        if x509.ExtendedKeyUsageOID.TIME_STAMPING not in eku.value:
            raise Failure("the time-stamp signer's certificate is not for time-stamping")
        for ca in cas:
            try:
                signing_cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if not ca.not_valid_before_utc <= stamped <= ca.not_valid_after_utc:
                continue
            return f"time-stamped {stamped:%Y-%m-%dT%H:%M:%SZ} by {subject} (trusted CA)"
        raise Failure(f"the time-stamp signer {subject} is not issued by a trusted TSA CA")
    return (
        f"time-stamped {stamped:%Y-%m-%dT%H:%M:%SZ} by {subject} "
        "(signature valid; pass --tsa-ca to also trust who signed it)"
    )


# --- The command ----------------------------------------------------------------------------


def run(args: argparse.Namespace, out: Any) -> None:
    trusted = load_keys(args.key, args.keys_file)
    if args.checkpoint and not trusted:
        raise Unusable("give the log's verifier key with --key or --keys-file")
    cas: list[x509.Certificate] = []
    for path in args.tsa_ca:
        try:
            cas += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise Unusable(f"--tsa-ca {path}: {exc}") from None
    checkpoints: list[tuple[Path, str, int, bytes, str]] = []
    for path in args.checkpoint:
        try:
            note = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Unusable(f"checkpoint {path}: {exc}") from None
        try:
            body, signer = open_note(note, trusted)
            origin, size, root = parse_checkpoint(body)
        except Failure as exc:
            raise Failure(f"checkpoint {path}: {exc}") from None
        if args.origin and origin != args.origin:
            raise Failure(f"checkpoint {path}: it is for the log {origin!r}, not {args.origin!r}")
        print(f"ok   checkpoint {path}: {size} events, signed by {signer}", file=out)
        tsr = path.with_name(path.name + ".tsr")
        if tsr.exists():
            try:
                stamp = verify_timestamp(tsr.read_bytes(), note.encode(), cas)
            except Failure as exc:
                raise Failure(f"checkpoint {path}: {exc}") from None
            print(f"ok   checkpoint {path}: {stamp}", file=out)
        checkpoints.append((path, origin, size, root, signer))
    origins = {origin for _, origin, _, _, _ in checkpoints}
    if len(origins) > 1:
        raise Failure(f"the checkpoints name different logs: {', '.join(sorted(origins))}")
    by_size: dict[int, tuple[Path, bytes]] = {}
    for path, _, size, root, _ in checkpoints:
        if size in by_size and by_size[size][1] != root:
            raise Failure(
                f"checkpoints {by_size[size][0]} and {path} sign different roots for the same "
                f"{size} events: the log was forked"
            )
        by_size[size] = (path, root)
    if args.export:
        event_hashes = verify_chain(read_export(args.export))
        print(f"ok   export {args.export}: {len(event_hashes)} events, chain intact", file=out)
        roots = merkle_roots(event_hashes, {size for _, _, size, _, _ in checkpoints})
        for path, _, size, root, _ in sorted(checkpoints, key=lambda c: c[2]):
            if size > len(event_hashes):
                raise Failure(
                    f"checkpoint {path}: it signed {size} events but the export holds "
                    f"{len(event_hashes)}: the log was truncated"
                )
            if roots[size] != root:
                raise Failure(
                    f"checkpoint {path}: the export's first {size} events do not hash to the "
                    "signed root: they were changed after this checkpoint was signed"
                )
            print(f"ok   checkpoint {path}: the export's first {size} events match", file=out)
    if args.consistency_proof:
        check_consistency_proof(args.consistency_proof, by_size, out)


def check_consistency_proof(path: Path, by_size: dict[int, tuple[Path, bytes]], out: Any) -> None:
    try:
        proof = json.loads(path.read_text(encoding="utf-8"))
        first, second = int(proof["first"]), int(proof["second"])
        nodes = [bytes.fromhex(node) for node in proof["consistency_path"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise Unusable(f"consistency proof {path}: {exc}") from None
    if first not in by_size or second not in by_size:
        raise Unusable(
            f"consistency proof {path}: give the signed checkpoints of sizes {first} and {second}"
        )
    (first_path, first_root), (second_path, second_root) = by_size[first], by_size[second]
    if not verify_consistency(first, second, first_root, second_root, nodes):
        raise Failure(
            f"checkpoints {first_path} and {second_path} are inconsistent: the log of "
            f"{second} events does not extend the one of {first}"
        )
    print(f"ok   {first_path} -> {second_path}: consistent ({path})", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, help="the JSONL audit export (from sequence 1)")
    parser.add_argument("--checkpoint", type=Path, action="append", default=[], metavar="FILE")
    parser.add_argument("--key", action="append", default=[], metavar="VKEY")
    parser.add_argument("--keys-file", type=Path, action="append", default=[], metavar="FILE")
    parser.add_argument("--origin", help="the log name the checkpoints must carry")
    parser.add_argument("--tsa-ca", type=Path, action="append", default=[], metavar="PEM")
    parser.add_argument("--consistency-proof", type=Path, metavar="JSON")
    args = parser.parse_args(argv)
    if not args.export and not args.checkpoint:
        parser.error("give --export, --checkpoint, or both")
    try:
        run(args, sys.stdout)
    except Unusable as exc:
        print(f"error {exc}", file=sys.stderr)
        return 2
    except Failure as exc:
        print(f"FAIL {exc}", file=sys.stdout)
        return 1
    print("verified", file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
