"""make bench: benchmarks on PostgreSQL, printed as JSON lines (notes go to stderr).

Each benchmark measures against a baseline taken in the same run, because the machine is shared
and noisy: ratios travel, absolute numbers less so.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# BENCH_DATABASE lets two checkouts bench on one PostgreSQL server without dropping each
# other's database.
BENCH_DB = os.environ.get("BENCH_DATABASE", "governance_bench")


def point_at_bench_database() -> None:
    """Recreate a dedicated database so runs never touch development or test data."""
    import psycopg

    url = urlparse(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/governance"
    )
    if not url.scheme.startswith("postgres"):
        sys.exit("make bench needs DATABASE_URL pointing at PostgreSQL")
    admin_url = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = urlunparse(url._replace(path=f"/{BENCH_DB}"))
    os.environ.pop("REDIS_URL", None)


def main() -> None:
    # `python bench/run.py [audit_append] [kill_switches] [policy_checks] [reports]
    # [runtime_controls] [engine_isolation]`: all by default.
    chosen = set(sys.argv[1:]) or {
        "audit_append",
        "kill_switches",
        "runtime_controls",
        "policy_checks",
        "reports",
        "engine_isolation",
    }
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    point_at_bench_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.base")
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if "audit_append" in chosen:
        from bench import audit_append

        audit_append.run()
    if "kill_switches" in chosen:
        from bench import kill_switches

        # The kill switch stream fans out through Redis pub/sub (channel named after the bench
        # database, so nothing else hears it); the rest of the benchmarks need no Redis.
        kill_switches.run(redis_url=redis_url)
    if "runtime_controls" in chosen:
        from bench import runtime_controls

        runtime_controls.run(redis_url=redis_url)
    if "policy_checks" in chosen:
        from bench import policy_checks

        policy_checks.run()
    if "reports" in chosen:
        from bench import reports

        reports.run()
    if "engine_isolation" in chosen:
        from bench import engine_isolation

        engine_isolation.run()


if __name__ == "__main__":
    main()
