"""Tests read only the repository and ../shared; without ../shared the suite still passes,
the tests that need it not run, with one summary line naming the folder; with CI set, a
missing ../shared fails the run."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ["tests/webhooks", "tests/core/test_problems.py"]


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "OPA_URL", "GOVERNANCE_REQUIRE_SERVICES", "CI"}
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELECTION],
        cwd=ROOT,
        env={**clean, "GOVERNANCE_SHARED_DIR": str(tmp_path / "shared"), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_shared_the_suite_passes_with_one_line_naming_the_folder(tmp_path):
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if str(tmp_path / "shared") in line]
    assert len(lines) == 1, result.stdout[-2000:]
    assert "(../shared), which is missing" in lines[0]
    assert " passed" in result.stdout  # the tests that need no samples ran


def test_with_ci_set_a_missing_shared_fails_the_run(tmp_path):
    result = _pytest(tmp_path, CI="true")
    assert result.returncode != 0
    assert "CI is set" in result.stdout + result.stderr
    assert str(tmp_path / "shared") in result.stdout + result.stderr


def test_no_test_reads_an_absolute_path_outside_the_repository():
    absolute = re.compile(r"""["'](/work/|/home/|/tmp/|/srv/)""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "tests").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if absolute.search(line)
    ]
    assert offenders == []
