"""Resolved deployment requests kept per process, so a pipeline's repeated checks skip the
inventory, coverage, approval and kill switch reads that build the policy input.

An entry is used only while two things read fresh with each check are unchanged:

- the audit chain head's hash. Every change the input reflects (a system or version edit,
  coverage, an approval, a release, a kill switch flip, a classification, the catalog) writes
  an audit event in its own transaction, so the next check after its commit sees a new head
  and misses. The hash, unlike the sequence number, never recurs after a rollback. (The
  active and shadow policy versions are kept against the same head, in policy.services.)
- the version a decision last allowed into that environment (the regression baseline's
  fallback), which decisions write without an audit event.

And only until the first approval it holds expires. A change made by hand in the database,
outside the services, is not seen until the next audited change.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from governance.audit.models import AuditChainHead
from governance.policy.models import AllowedVersion

MAX_ENTRIES = 512


@dataclass(frozen=True)
class InputState:
    audit_head: str | None
    last_allowed: str | None  # the other version last allowed into the environment


_HEAD, _ALLOWED = AuditChainHead._meta.db_table, AllowedVersion._meta.db_table
# Table names from the models, values as parameters.
_STATE_SQL = f"""
    SELECT (SELECT hash FROM {_HEAD} WHERE id = 1),
           (SELECT model_version FROM {_ALLOWED}
             WHERE system_slug = %s AND environment = %s AND model_version <> %s
             ORDER BY last_allowed_at DESC LIMIT 1)
"""  # noqa: S608


def input_state(*, system_slug: str, environment: str, version: str) -> InputState:
    """Both fresh reads in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, [system_slug, environment, version])
        head, allowed = cursor.fetchone()
    return InputState(audit_head=head, last_allowed=allowed)


_entries: OrderedDict[tuple, tuple[Any, datetime | None]] = OrderedDict()
_lock = threading.Lock()


def cached(key: tuple) -> Any | None:
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        value, until = entry
        if until is not None and until <= timezone.now():
            del _entries[key]
            return None
        _entries.move_to_end(key)
        return value


def remember(key: tuple, value: Any, *, until: datetime | None) -> None:
    with _lock:
        _entries[key] = (value, until)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
