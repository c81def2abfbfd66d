"""Schemathesis hooks for `make fuzz`: every test case is sent with the next credential.

The credentials (one API token per scope and an admin session, see credentials.py) are read
from the JSON file named by FUZZ_CREDENTIALS. Rotating them case by case spreads every scope
over every operation within one bounded run; each failure's curl line carries the credential
that reproduces it.
"""

import itertools
import json
import os
import threading
from pathlib import Path

import schemathesis

_CREDENTIALS: dict[str, dict[str, dict[str, str]]] = json.loads(
    Path(os.environ["FUZZ_CREDENTIALS"]).read_text()
)
_NAMES = sorted(_CREDENTIALS)
# The admin session reaches every operation's happy path, so it gets every other case.
_ADMIN = [name for name in _NAMES if name.startswith("session:")]
_ORDER = itertools.cycle(
    [x for pair in itertools.zip_longest(_NAMES, [], fillvalue=_ADMIN[0]) for x in pair]
)
_LOCK = threading.Lock()


@schemathesis.auth(refresh_interval=None)
class RotatingCredentials:
    """Hands out the credentials in turn; the admin session every second case."""

    def get(self, case, ctx):
        with _LOCK:
            return next(_ORDER)

    def set(self, case, data, ctx):
        credential = _CREDENTIALS[data]
        case.headers = {**(case.headers or {}), **credential.get("headers", {})}
        if credential.get("cookies"):
            case.cookies = {**(case.cookies or {}), **credential["cookies"]}
