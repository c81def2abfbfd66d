"""Settings, README and docker-compose.yml name the same environment variables."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from governance.settings import env

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")
# Read outside env.py: Django itself reads DJANGO_SETTINGS_MODULE, and seed_demo reads
# DEMO_PASSWORD only when it runs, so neither shows up in env.READ at import time. The AWS keys
# are read at call time by integrations/sagemaker_api.py, never kept in settings.
READ_ELSEWHERE = {
    "DJANGO_SETTINGS_MODULE",
    "DEMO_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
}


def readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_settings_read_exactly_the_documented_variables(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 60)
    monkeypatch.setenv("AUDIT_SIGNING_DISABLED", "true")
    env.READ.clear()
    for module in ("governance.settings.base", "governance.settings.production"):
        importlib.reload(importlib.import_module(module))
    assert readme_variables() == env.READ | READ_ELSEWHERE


def test_compose_uses_only_documented_variables():
    documented = readme_variables()
    for name in APP_SERVICES:
        used = set(compose()["services"][name]["environment"])
        assert used <= documented, f"{name}: undocumented {sorted(used - documented)}"


def test_app_services_share_one_configuration():
    services = compose()["services"]
    first = services[APP_SERVICES[0]]["environment"]
    assert first["DJANGO_SETTINGS_MODULE"] == "governance.settings.production"
    assert first["DATABASE_URL"].startswith("postgres://")
    assert first["OPA_URL"] == "http://opa:8181"
    for name in APP_SERVICES[1:]:
        assert services[name]["environment"] == first


def test_long_running_services_have_health_checks():
    services = compose()["services"]
    for name in ("web", "worker", "beat", "postgres", "redis", "opa"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_production_refuses_to_start_without_a_secret_key():
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    environment["DJANGO_SETTINGS_MODULE"] = "governance.settings.production"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_an_audit_signing_key():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_SIGNING")}
    environment["DJANGO_SETTINGS_MODULE"] = "governance.settings.production"
    environment["SECRET_KEY"] = "k" * 60
    command = [sys.executable, "-c", "import django; django.setup()"]
    run = {"cwd": ROOT, "capture_output": True, "text": True, "timeout": 60}
    result = subprocess.run(command, env=environment, **run)
    assert result.returncode != 0
    assert "Set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE" in result.stderr
    # Switching checkpoints off is explicit, and then production starts.
    result = subprocess.run(command, env={**environment, "AUDIT_SIGNING_DISABLED": "true"}, **run)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_boolean_is_refused_with_its_name(monkeypatch, value):
    monkeypatch.setenv("DEBUG", value)
    with pytest.raises(ValueError, match="DEBUG="):
        env.env_bool("DEBUG")
