"""WeasyPrint is loaded only where a PDF is rendered: without Pango, migrate and the web UI
still run, and `make run` names the one apt line that installs what PDFs need."""

import os
import subprocess
import sys
from pathlib import Path

from governance.reports.pdf_engine import APT_LINE

ROOT = Path(__file__).resolve().parents[2]


def _without_pango(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Python here with a weasyprint that fails to load its libraries, as on a machine
    without Pango."""
    fake = tmp_path / "fake" / "weasyprint"
    fake.mkdir(parents=True, exist_ok=True)
    (fake / "__init__.py").write_text(
        "raise OSError(\"cannot load library 'libpango-1.0-0': no such file\")\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "OPA_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["PYTHONPATH"] = str(tmp_path / "fake")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_manage_py_runs_without_pango(tmp_path):
    result = _without_pango(tmp_path, "manage.py", "migrate", "--plan")
    assert result.returncode == 0, result.stderr[-2000:]
    result = _without_pango(tmp_path, "manage.py", "check")
    assert result.returncode == 0, result.stderr[-2000:]


def test_make_run_check_names_the_apt_line_when_pango_is_missing(tmp_path):
    result = _without_pango(tmp_path, "-m", "governance.reports.pdf_engine")
    assert result.returncode == 0
    assert APT_LINE in result.stdout
    assert "libpango-1.0-0" in result.stdout


def test_the_check_is_silent_where_pdfs_render():
    result = subprocess.run(
        [sys.executable, "-m", "governance.reports.pdf_engine"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stdout == ""
