"""The real govctl (clients/python, installed as governance-sdk, run as its console script)
against the live test server: register a version from a model file, then again (exit 3)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.inventory.models import ModelVersion
from governance.inventory.services import ai_system_create
from tests.artifacts.builders import sample

pytestmark = pytest.mark.django_db(transaction=True)

GOVCTL = Path(sys.executable).parent / "govctl"


def govctl(url: str, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVERNANCE_URL": url, "GOVERNANCE_TOKEN": token}
    return subprocess.run(
        [str(GOVCTL), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_govctl_registers_a_version_from_a_model_file(live_server, make_token, make_user):
    owner = make_user(Role.REQUESTER, username="owner")
    system = ai_system_create(
        actor=Actor.system("tests"), slug="scorer", name="Scorer", owner=owner, risk_tier="low"
    )
    _, token = make_token([Perm.INVENTORY_VIEW, Perm.INVENTORY_MANAGE], name="ci")
    weights = sample("d.safetensors")

    done = govctl(
        live_server.url,
        token,
        "register",
        "--system",
        "scorer",
        "--version",
        "1.0",
        "--code-commit",
        "b" * 40,
        str(weights),
    )
    assert done.returncode == 0, done.stderr
    assert "registered: scorer@1.0 from a safetensors artifact" in done.stdout
    version = ModelVersion.objects.get(system=system, version="1.0")
    assert version.artifact_format == "safetensors"
    assert version.artifact["format"] == "safetensors"
    assert version.code_commit_sha == "b" * 40
    assert AuditEvent.objects.filter(action="inventory.version.registered").count() == 1

    again = govctl(
        live_server.url, token, "register", "--system", "scorer", "--version", "1.0", str(weights)
    )
    assert again.returncode == 3
    assert "HTTP 409" in again.stderr and "version:" in again.stderr
    assert ModelVersion.objects.filter(system=system).count() == 1

    _, reader = make_token([Perm.INVENTORY_VIEW], name="reader")
    denied = govctl(
        live_server.url, reader, "register", "--system", "scorer", "--version", "1.1", str(weights)
    )
    assert denied.returncode == 2 and "HTTP 403" in denied.stderr
    assert ModelVersion.objects.filter(system=system).count() == 1
