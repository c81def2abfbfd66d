"""An auditor generates a compliance PDF in the browser, downloads it, and checks its chain head
against a verified export of the audit log."""

import hashlib
import re

import pytest
from django.core.management import call_command

from governance.audit.models import AuditEvent
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create
from governance.reports.models import Report
from tests.ui.conftest import assert_fits, nav_click

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def render_here():
    """Test storage lives in each process's memory, so the PDF must be rendered in this one
    (also in the services pass, where a Celery worker process may be running)."""
    from governance.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_auditor_generates_downloads_and_verifies_a_system_report(
    person, sign_in, live_server, viewport, shot, tmp_path, render_here
):
    actor = Actor.system("tests")
    catalog_load(actor=actor)
    owner = person("olga", "requester")
    ai_system_create(
        actor=actor, slug="loan-scoring", name="Loan scoring", owner=owner, risk_tier="high"
    )
    person("aude", "auditor")
    page = sign_in("aude")
    nav_click(page, "Reports")
    page.wait_for_url(re.compile(r"/reports/"))
    page.select_option("#id_kind", "system")
    page.select_option("#id_system", "loan-scoring")
    # Rendering runs eagerly inside this request (render_here): give it a PDF's time.
    page.click("button:has-text('Generate PDF')", timeout=90_000)
    page.wait_for_selector("#reports tr[data-status=done]", timeout=60_000)
    assert_fits(page)
    shot("reports-done")
    report = Report.objects.get()
    with page.expect_download() as download_info:
        page.click("#reports a:has-text('Download PDF')")
    pdf = download_info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == report.sha256
    assert AuditEvent.objects.filter(action="reports.downloaded").count() == 1
    export = tmp_path / "audit.jsonl"
    call_command("export_audit", "--format", "jsonl", "--output", str(export))
    # The auditor's check: the export verifies, and it holds the head the report printed.
    call_command(
        "verify_audit",
        "--file",
        str(export),
        "--expect-head",
        f"{report.chain_sequence}:{report.chain_hash}",
    )
