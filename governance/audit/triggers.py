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


# The Merkle tree's nodes and the signed checkpoints are append-only too (migration 0004).
PROOF_TABLES = ("audit_audittreenode", "audit_auditcheckpoint")


def _proof_statements(connection: BaseDatabaseWrapper, *, create: bool) -> list[str]:
    if connection.vendor == "postgresql":
        if not create:
            return [
                *(f"DROP TRIGGER IF EXISTS audit_refuse_change ON {t}" for t in PROOF_TABLES),
                *(f"DROP TRIGGER IF EXISTS audit_refuse_truncate ON {t}" for t in PROOF_TABLES),
                "DROP FUNCTION IF EXISTS audit_refuse_proof_change()",
            ]
        return [
            """
            CREATE OR REPLACE FUNCTION audit_refuse_proof_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: UPDATE, DELETE and TRUNCATE are refused',
                    TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END;
            $$
            """,
            *(
                f"CREATE OR REPLACE TRIGGER audit_refuse_change BEFORE UPDATE OR DELETE ON {t} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_proof_change()"
                for t in PROOF_TABLES
            ),
            *(
                f"CREATE OR REPLACE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_proof_change()"
                for t in PROOF_TABLES
            ),
        ]
    if connection.vendor == "sqlite":
        if not create:
            return [
                f"DROP TRIGGER IF EXISTS {t}_refuse_{verb}"
                for t in PROOF_TABLES
                for verb in ("update", "delete")
            ]
        return [
            f"CREATE TRIGGER IF NOT EXISTS {t}_refuse_{verb.lower()} BEFORE {verb} ON {t} "
            f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: UPDATE, DELETE and TRUNCATE are "
            "refused'); END"
            for t in PROOF_TABLES
            for verb in ("UPDATE", "DELETE")
        ]
    raise RuntimeError(f"only PostgreSQL and SQLite are supported, not {connection.vendor}")


def create_proof_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _proof_statements(connection, create=True):
            cursor.execute(sql)


def drop_proof_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _proof_statements(connection, create=False):
            cursor.execute(sql)


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=True):
            cursor.execute(sql)


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection, create=False):
            cursor.execute(sql)
