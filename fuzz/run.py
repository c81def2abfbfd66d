"""make fuzz: schemathesis against a live server holding the demo data.

A fresh database (SQLite in a temporary directory, or FUZZ_DATABASE_URL: a PostgreSQL
database that is dropped and created), migrated, loaded with the catalog, the policies and
seed_demo, an API token per scope and an admin session (fuzz/prepare.py); gunicorn on the
first free port of 8120-8129; then `schemathesis run` with every check, bounded by
fuzz/schemathesis.toml.
Exits with schemathesis' status: non-zero on any failure.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PORTS = range(8120, 8130)


def note(message: str) -> None:
    print(f"make fuzz: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit("make fuzz: ports 8120-8129 are all taken")


def fresh_database(workdir: Path) -> str:
    url = os.environ.get("FUZZ_DATABASE_URL", "")
    if not url:
        return f"sqlite:///{workdir / 'fuzz.sqlite3'}"
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("make fuzz: the server exited before it answered")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.5)
    sys.exit("make fuzz: the server did not answer /healthz within 60 s")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="governance-fuzz-"))
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "OPA_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="governance.settings.base",
        DATABASE_URL=fresh_database(workdir),
        MEDIA_ROOT=str(workdir / "media"),
        DEBUG="true",
        PYTHONPATH=str(ROOT),
    )
    note(f"database {env['DATABASE_URL']}")
    credentials = subprocess.run(
        [PY, str(ROOT / "fuzz" / "prepare.py")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (workdir / "credentials.json").write_text(credentials)
    note(f"credentials: {', '.join(sorted(json.loads(credentials)))}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "governance.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "60",
            # gunicorn answers a request line over 4,094 bytes with its own HTML 414, before
            # the app and outside the OpenAPI. The fuzz judges the app, so the line is not
            # limited here: a query that long is the app's to refuse (400 problem+json).
            "--limit-request-line",
            "0",
            # An event stream the fuzz opened holds its worker until the stream ends; at the
            # end of the run that is not worth gunicorn's default 30 s of grace.
            "--graceful-timeout",
            "5",
        ],
        cwd=ROOT,
        env={**env, "DEBUG": "false"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, server)
        note(f"server {base} (log: {workdir / 'server.log'})")
        result = subprocess.run(
            [
                str(Path(PY).parent / "schemathesis"),
                "--config-file",
                str(ROOT / "fuzz" / "schemathesis.toml"),
                "run",
                f"{base}/api/schema/",
                "--report-dir",
                str(workdir / "report"),
                *sys.argv[1:],
            ],
            cwd=ROOT,
            env={
                **env,
                "FUZZ_CREDENTIALS": str(workdir / "credentials.json"),
                "SCHEMATHESIS_HOOKS": "fuzz.hooks",
            },
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # never let the shutdown hide the run's result
            server.kill()
            server.wait()
    if result.returncode == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        note(f"kept {workdir} for the server log and the reports")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
