"""Fixtures for reports: a governed system with controls, evidence and decisions; eager Celery
with on-commit callbacks run, so a request renders its report before the test goes on."""

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.accounts.models import Role
from governance.celery import app as celery_app
from governance.controls.models import ControlStatus, Subcategory
from governance.controls.services import catalog_load, control_implementation_update, evidence_add
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create

EVIDENCE = b"model risk review minutes, signed"


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run queued tasks in the test process, also in the services pass."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks, eager_celery) -> Callable[..., Any]:
    """Call ``fn`` and run what it queued on commit (the render task), like a real commit."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def governed_system(db, make_user) -> AISystem:
    actor = Actor.system("tests")
    catalog_load(actor=actor)
    owner = make_user(Role.APPROVER, username="olga", first_name="Olga", last_name="Owner")
    system = ai_system_create(
        actor=actor,
        slug="loan-scoring",
        name="Loan scoring",
        owner=owner,
        risk_tier="high",
        description="Scores consumer loan applications.",
    )
    for code, status in (("GOVERN 1.1", ControlStatus.IMPLEMENTED), ("MAP 1.1", "in_progress")):
        control_implementation_update(
            actor=actor,
            system=system,
            subcategory=Subcategory.objects.get(code=code),
            reason=f"Reviewed {code} with the model risk committee",
            status=status,
            owner=owner,
            implementation=f"Handled by the loan model runbook for {code}.",
        )
    evidence_add(
        actor=actor,
        system=system,
        subcategory=Subcategory.objects.get(code="GOVERN 1.1"),
        title="Risk committee minutes",
        upload=SimpleUploadedFile("minutes.txt", EVIDENCE, "text/plain"),
    )
    return system


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(data: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "info.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


@pytest.fixture(autouse=True)
def _poppler() -> None:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (make browser-deps)")
