"""Database triggers that make the audit table append-only, on PostgreSQL and SQLite.

Created by migration 0002. Someone who can drop or disable triggers can still change rows;
that is what the hash chain and ``verify_audit`` catch.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
MESSAGE = "audit_auditevent is append-only: UPDATE, DELETE and TRUNCATE are refused"

_POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    f"""
    CREATE OR REPLACE TRIGGER audit_refuse_update_delete
        BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
    """,
    f"""
    CREATE OR REPLACE TRIGGER audit_refuse_truncate
        BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS audit_refuse_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_refuse_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]
# SQLite has no TRUNCATE; DELETE without WHERE goes through the DELETE trigger.
_SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_refuse_{verb.lower()}
        BEFORE {verb} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """
    for verb in ("UPDATE", "DELETE")
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS audit_refuse_{verb}" for verb in ("update", "delete")]


def _statements(connection: BaseDatabaseWrapper, *, create: bool) -> list[str]:
    if connection.vendor == "postgresql":
        return _POSTGRES_CREATE if create else _POSTGRES_DROP
    if connection.vendor == "sqlite":
        return _SQLITE_CREATE if create else _SQLITE_DROP
    raise RuntimeError(f"only PostgreSQL and SQLite are supported, not {connection.vendor}")


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=True):
            cursor.execute(sql)


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=False):
            cursor.execute(sql)
