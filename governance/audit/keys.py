"""The checkpoint signing key and the trusted verifier keys, from settings (never the database).

The signing key comes from ``AUDIT_SIGNING_KEY`` (the key itself) or ``AUDIT_SIGNING_KEY_FILE``
(a file holding it). Without either, development runs create a key on first use in
``AUDIT_DEV_SIGNING_KEY_FILE``; production refuses to start instead (settings/production.py).
Rotation: put the old key's verifier key in ``AUDIT_TRUSTED_KEYS`` when a new signing key
takes over, so checkpoints it signed still verify; each checkpoint names its signer.
"""

import contextlib
import os
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from governance.audit.signing import (
    NoteError,
    SigningKey,
    VerifierKey,
    generate_signing_key,
    parse_signing_key,
    parse_verifier_key,
)


class SigningDisabled(RuntimeError):
    """Checkpoints are switched off (AUDIT_SIGNING_DISABLED) or no key is configured."""


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"AUDIT_SIGNING_KEY_FILE {path}: {exc.strerror}") from None


def _create_dev_key(path: Path) -> str:
    name = f"{settings.AUDIT_LOG_ORIGIN.split('/')[0]}/dev-{os.urandom(3).hex()}"
    key = generate_signing_key(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once keep one key, the loser reads the winner's.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key.skey + "\n")
    return key.skey


@cache
def _signing_key(raw: str, file: str, dev_file: str) -> SigningKey:
    if raw:
        text, source = raw, "AUDIT_SIGNING_KEY"
    elif file:
        text, source = _read_key_file(Path(file)), f"AUDIT_SIGNING_KEY_FILE {file}"
    elif dev_file:
        path = Path(dev_file)
        text = _read_key_file(path) if path.exists() else _create_dev_key(path)
        source = f"development key file {dev_file}"
    else:
        raise SigningDisabled("no audit signing key is configured")
    try:
        return parse_signing_key(text)
    except NoteError as exc:
        raise ImproperlyConfigured(f"{source}: {exc}") from None


def signing_key() -> SigningKey:
    """The key that signs new checkpoints; raises SigningDisabled when there is none."""
    if settings.AUDIT_SIGNING_DISABLED:
        raise SigningDisabled("audit checkpoints are disabled (AUDIT_SIGNING_DISABLED)")
    return _signing_key(
        settings.AUDIT_SIGNING_KEY,
        settings.AUDIT_SIGNING_KEY_FILE,
        str(settings.AUDIT_DEV_SIGNING_KEY_FILE or ""),
    )


def trusted_keys() -> list[VerifierKey]:
    """The current key first, then the earlier ones still trusted (rotation)."""
    keys: list[VerifierKey] = []
    with contextlib.suppress(SigningDisabled):
        keys.append(signing_key().verifier)
    for text in settings.AUDIT_TRUSTED_KEYS:
        try:
            key = parse_verifier_key(text)
        except NoteError as exc:
            raise ImproperlyConfigured(f"AUDIT_TRUSTED_KEYS: {exc}") from None
        if key not in keys:
            keys.append(key)
    return keys
