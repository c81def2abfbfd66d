"""A database outage logs one line per failed request; other database errors keep their
traceback."""

import io
import logging
import sys

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError

from governance.core.logs import DatabaseUnreachable


def _logged(error: BaseException) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(DatabaseUnreachable())
    logger = logging.getLogger("tests.core.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise error
        except type(error):
            logger.error(
                "Internal Server Error: %s", "/api/v1/policy/check", exc_info=sys.exc_info()
            )
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def _as_django(cause: BaseException) -> OperationalError:
    try:
        raise OperationalError(*cause.args) from cause
    except OperationalError as wrapped:
        return wrapped


def test_an_unreachable_database_is_one_line():
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://postgres@127.0.0.1:1/none", connect_timeout=2)
    assert refused.value.sqlstate is None
    text = _logged(_as_django(refused.value))
    assert text.count("\n") == 1 and "Traceback" not in text
    assert text.startswith("Internal Server Error: /api/v1/policy/check (database unreachable: ")


def test_an_error_the_server_reported_keeps_its_traceback():
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert deadlock.sqlstate == "40P01"
    text = _logged(_as_django(deadlock))
    assert "Traceback" in text and "deadlock detected" in text


def test_the_console_handler_uses_it():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["database_unreachable"]
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    assert any(isinstance(f, DatabaseUnreachable) for f in handler.filters)
