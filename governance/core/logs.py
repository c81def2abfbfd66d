"""Log filters for the console handler."""

import logging

from django.db import InterfaceError, OperationalError


class DatabaseUnreachable(logging.Filter):
    """A request that failed because the database could not be reached logs one line, not a
    traceback. During an outage every request fails the same way, and a thousand identical
    tracebacks drown the error that matters. Errors the server reported (a deadlock, a
    constraint) keep their traceback: psycopg gives only those an SQLSTATE."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InterfaceError | OperationalError) and _unreachable(error):
            text = str(error).strip()
            first = text.splitlines()[0] if text else type(error).__name__
            record.msg, record.args = f"{record.getMessage()} (database unreachable: {first})", None
            record.exc_info, record.exc_text = None, None
        return True


def _unreachable(error: BaseException) -> bool:
    if isinstance(error, InterfaceError):  # "connection already closed"
        return True
    cause = error.__cause__
    return cause is not None and hasattr(cause, "sqlstate") and cause.sqlstate is None
