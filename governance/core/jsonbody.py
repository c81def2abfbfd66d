"""The one parser for JSON that arrives from outside (API bodies, webhooks, form fields).

Python's decoder recurses once per nesting level, so a body of a few thousand ``[`` ends in a
RecursionError (a 500) or worse. Every path that reads untrusted JSON calls ``parse_json``,
which refuses documents nested deeper than ``JSON_MAX_DEPTH`` before decoding them, and
refuses NaN and Infinity (not JSON, and not comparable in Rego).
"""

import json
import re
from typing import Any

from django.conf import settings

# Strings are skipped whole (a "[" inside one is text, not nesting).
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


class JsonInvalid(ValueError):
    """The body is not JSON we accept; ``str(exc)`` says why, for a 400. ``lineno`` is the
    line of a syntax error, when there is one."""

    def __init__(self, message: str, *, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


def _reject_constant(name: str) -> Any:
    raise JsonInvalid(f"{name} is not valid JSON.")


def json_depth_exceeds(raw: bytes, max_depth: int) -> bool:
    """Whether ``raw`` nests arrays/objects deeper than ``max_depth`` (syntax aside)."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False  # the common case: too few openers to be too deep, no scan needed
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue
        if token[0] in _OPENERS:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def parse_json(raw: bytes | str, *, max_depth: int | None = None) -> Any:
    """Decode UTF-8 JSON, or raise JsonInvalid with a reason a client can act on."""
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if json_depth_exceeds(data, limit):
        raise JsonInvalid(f"The JSON is nested more than {limit} levels deep.")
    try:
        text = data.decode("utf-8-sig") if data[:3] == b"\xef\xbb\xbf" else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonInvalid(f"The body is not UTF-8: {exc.reason} at byte {exc.start}.") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # belt and braces: the scan above should have caught it
        raise JsonInvalid(f"The JSON is nested more than {limit} levels deep.") from None
    except json.JSONDecodeError as exc:
        raise JsonInvalid(
            f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            lineno=exc.lineno,
        ) from None
    # PostgreSQL stores no NUL in text or jsonb: refused here, as a 400, not a 500 at INSERT.
    if "\\u0000" in text and _holds_nul(value):
        raise JsonInvalid("Strings may not contain the NUL character (\\u0000).")
    return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False
