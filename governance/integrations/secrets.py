"""Webhook secrets at rest: sealed with Fernet under a key derived from SECRET_KEY, or named
by an environment variable. A registry signs with the secret itself (HMAC), so it must be
recoverable: sealing, not hashing. Rotating SECRET_KEY means setting the secrets again."""

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from governance.integrations.models import Integration

_CONTEXT = b"governance.integrations.secret.v1"


def _fernet() -> Fernet:
    key = hashlib.sha256(_CONTEXT + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def secret_seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def integration_secret(integration: Integration) -> str:
    """The webhook secret, or "" when none is configured or it cannot be unsealed."""
    if integration.secret_env:
        return os.environ.get(integration.secret_env, "")
    if not integration.secret_sealed:
        return ""
    try:
        return _fernet().decrypt(integration.secret_sealed.encode()).decode()
    except InvalidToken:
        return ""


def integration_token(integration: Integration) -> str:
    return os.environ.get(integration.token_env, "") if integration.token_env else ""
