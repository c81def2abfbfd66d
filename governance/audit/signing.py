"""Ed25519 keys and C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).

Key encodings are those of the Go ``golang.org/x/mod/sumdb/note`` package, which transparency
logs and witnesses use: a verifier key is ``<name>+<key id, 8 hex>+<base64(0x01 || public
key)>``, a signing key is ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || 32-byte seed)>``.
No Django here: the standalone verifier in tools/ implements the same rules on its own.
"""

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
DASH = "\u2014 "  # an em dash and a space begin every signature line


class NoteError(ValueError):
    """A key or a note that cannot be used; the message says why."""


def key_id(name: str, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()
    return struct.unpack(">I", digest[:4])[0]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError("a key name must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class VerifierKey:
    name: str
    public: bytes

    @property
    def id(self) -> int:
        return key_id(self.name, self.public)

    @property
    def id_hex(self) -> str:
        return f"{self.id:08x}"

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{self.id_hex}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    name: str
    seed: bytes

    @property
    def verifier(self) -> VerifierKey:
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return VerifierKey(self.name, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    @property
    def skey(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id_hex}+{encoded}"


def _decode_typed_key(encoded: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise NoteError(f"the {what} is not valid base64") from None
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteError(f"the {what} is not an Ed25519 key (type 0x01, 32 bytes)")
    return raw[1:]


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)  # base64 may hold '+'; names and ids do not
    if len(parts) != 3:
        raise NoteError("a verifier key reads NAME+KEYID+BASE64")
    name, id_hex, encoded = parts
    _check_name(name)
    key = VerifierKey(name, _decode_typed_key(encoded, "verifier key"))
    if key.id_hex != id_hex.lower():
        raise NoteError(f"verifier key {name}: its key id {id_hex} does not match the key")
    return key


def parse_signing_key(text: str) -> SigningKey:
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signing key reads PRIVATE+KEY+NAME+KEYID+BASE64")
    _, _, name, id_hex, encoded = parts
    _check_name(name)
    key = SigningKey(name, _decode_typed_key(encoded, "signing key"))
    if key.verifier.id_hex != id_hex.lower():
        raise NoteError(f"signing key {name}: its key id {id_hex} does not match the key")
    return key


def generate_signing_key(name: str) -> SigningKey:
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return SigningKey(name, seed)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The note text of a C2SP tlog-checkpoint: origin, tree size, base64 root hash."""
    if not origin or "\n" in origin:
        raise NoteError("the checkpoint origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(body: str, keys: list[SigningKey]) -> str:
    if not body.endswith("\n"):
        raise NoteError("note text ends with a newline")
    lines = []
    for key in keys:
        signature = struct.pack(">I", key.verifier.id) + key.sign(body.encode())
        lines.append(f"{DASH}{key.name} {base64.b64encode(signature).decode()}\n")
    return body + "\n" + "".join(lines)


@dataclass(frozen=True)
class VerifiedNote:
    body: str
    signed_by: list[VerifierKey]


def open_note(note: str, trusted: list[VerifierKey]) -> VerifiedNote:
    """Split a signed note and verify it against the trusted keys.

    Per the spec, signatures from unknown keys are ignored; a known key whose signature does
    not verify rejects the whole note, and so does a note no trusted key signed.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("a signed note holds no control characters other than newline")
    body, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signature lines")
    body += "\n"
    by_id = {(key.name, key.id): key for key in trusted}
    verified: list[VerifierKey] = []
    for line in signatures[:-1].split("\n"):
        if not line.startswith(DASH):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError(f"the signature by {name} is not base64") from None
        if len(raw) < 5:
            raise NoteError(f"the signature by {name} is too short")
        (signer_id,) = struct.unpack(">I", raw[:4])
        key = by_id.get((name, signer_id))
        if key is None:
            continue
        if not key.verify(body.encode(), raw[4:]):
            raise NoteError(f"the signature by {name} ({signer_id:08x}) does not verify")
        verified.append(key)
    if not verified:
        raise NoteError("no trusted key signed this note")
    return VerifiedNote(body, verified)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"the tree size {size!r} is not a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except ValueError:
        raise NoteError("the root hash is not base64") from None
    if len(digest) != 32:
        raise NoteError("the root hash is not 32 bytes")
    return Checkpoint(origin, int(size), digest, tuple(lines[3:-1]))
