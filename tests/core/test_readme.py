"""The README's shell examples run as written against a fresh `make run`.

Every ```sh block is marked: `<!-- runnable -->` (run here, in README order, in one shell, so
a variable set by an earlier block is there for the next) or `<!-- illustrative: why -->`.
The server is what `make run` builds (migrate, catalog, policies, demo data, runserver, on
SQLite with in-process Celery), on a free port that replaces 127.0.0.1:8000 in the commands.
In the shell, curl fails on any HTTP error (a 4xx or 5xx answer fails the block).
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from governance.accounts.models import Role

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"(?P<marker><!--[^\n]*-->\n)?```(?:sh|bash|shell)\n(?P<body>.*?)```", re.S)


def blocks() -> list[tuple[str, str]]:
    found = []
    for match in BLOCK.finditer(README):
        marker = (match.group("marker") or "").strip()
        found.append((marker, match.group("body")))
    return found


def test_every_shell_block_is_marked_runnable_or_illustrative():
    unmarked = [body.splitlines()[0] for marker, body in blocks() if not marker]
    assert unmarked == []
    assert all(m == "<!-- runnable -->" or m.startswith("<!-- illustrative: ") for m, _ in blocks())
    assert sum(m == "<!-- runnable -->" for m, _ in blocks()) >= 5


def test_no_command_needs_tools_a_fresh_debian_lacks():
    shell = "\n".join(body for _, body in blocks())
    for tool in ("uuidgen", "xxd", "jq "):
        assert tool not in shell


def test_readme_role_names_are_the_cli_role_names():
    table = re.findall(r"^\| `([a-z_]+)` \| (?:as viewer|read|everything)", README, re.M)
    assert set(table) == set(Role.values)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fresh_make_run(tmp_path):
    """What `make run` serves, built the same way, in a scratch directory."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "OPA_URL",
            "DJANGO_SETTINGS_MODULE",
            "GOVERNANCE_REQUIRE_SERVICES",
        }
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        DEBUG="true",
    )
    python = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput"], ["load_catalog"], ["load_policies"], ["seed_demo"]):
        subprocess.run([*python, *command], env=env, check=True, capture_output=True, timeout=600)
    port = _free_port()
    server = subprocess.Popen(
        [*python, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"the server did not start: {server.stderr.read()[-2000:]}")
            time.sleep(0.3)
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    # The commands run "from the checkout": the same relative paths, files written elsewhere.
    for name in (".venv", "manage.py", "examples", "tools"):
        (workdir / name).symlink_to(ROOT / name)
    try:
        yield port, env, workdir
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_runnable_blocks_run_against_a_fresh_make_run(fresh_make_run):
    port, env, workdir = fresh_make_run
    parts = [
        "set -euo pipefail",
        # Strict curl for the test only: an HTTP error fails the block.
        'curl() { command curl -sS --fail-with-body "$@"; }',
    ]
    for number, (marker, body) in enumerate(blocks(), 1):
        if marker == "<!-- runnable -->":
            parts.append(f"echo '=== README block {number}' >&2")
            parts.append(body.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    result = subprocess.run(
        ["bash", "-c", "\n".join(parts)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"stderr:\n{result.stderr[-3000:]}\nstdout:\n{result.stdout[-3000:]}"
    )
    out = result.stdout
    assert '"name":"readme-examples"' in out.replace(" ", "")  # GET /api/v1/me, new token
    assert '"allow":false' in out.replace(" ", "")  # the policy check decided
    assert "HTTP/1.1 304" in out  # the ETag round trip
    assert '"slug":"churn-model"' in out.replace(" ", "")  # the system was created
    assert list(workdir.glob("*.pdf")), "the report was downloaded"
