"""The governance journey: from the portfolio to a control, with evidence, and coverage moves."""

import re

import pytest

from governance.audit.models import AuditEvent
from governance.controls.models import Evidence
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_approver_records_a_control_with_evidence_and_coverage_moves(
    person, sign_in, live_server, shot, tmp_path
):
    catalog_load(actor=Actor.system("tests"))
    approver = person("arjun", "approver")
    for slug, tier in (("claims-bot", "critical"), ("forecast", "low")):
        ai_system_create(
            actor=Actor.system("tests"),
            slug=slug,
            name=slug.replace("-", " ").title(),
            owner=approver,
            risk_tier=tier,
        )
    page = sign_in("arjun")
    page.click("nav >> text=Portfolio")
    first_row = page.locator("table.portfolio tbody tr").first
    assert "Claims Bot" in first_row.inner_text()  # critical and uncovered: first
    shot("portfolio")
    first_row.locator("a").first.click()
    page.wait_for_url(re.compile(r"/systems/claims-bot/"))
    assert "0 of 72 required subcategories implemented" in page.content()
    page.click("table.controls >> text=GOVERN 1.1")
    page.wait_for_url(re.compile(r"/controls/GOVERN%201.1/"))

    page.click("summary:has-text('Change status')")
    page.select_option("#id_status", "implemented")
    page.fill("#id_implementation", "AI legal register kept by the privacy office")
    page.click("text=Save with this reason")  # no reason yet: the browser refuses
    assert AuditEvent.objects.filter(action="controls.implementation.status_changed").count() == 0
    page.fill("#id_reason", "Register reviewed by legal on 2026-11-20")
    page.click("text=Save with this reason")
    page.wait_for_selector(".message-success")
    assert "Implemented" in page.locator("h1").inner_text()

    evidence = tmp_path / "legal-register.pdf"
    evidence.write_bytes(b"%PDF-1.4 register")
    page.click("summary:has-text('Add evidence')")
    page.fill("#id_title", "Legal register v3")
    page.set_input_files("#id_file", str(evidence))
    page.click("text=Add evidence >> nth=-1")
    page.wait_for_selector("ul.evidence >> text=Legal register v3")
    assert Evidence.objects.get().sha256 in page.content()
    shot("control-with-evidence")

    page.click(".crumbs a")
    assert "1 of 72 required subcategories implemented" in page.content()
    shot("system-coverage")
    page.click("nav >> text=Portfolio")
    assert "1%" in page.locator("table.portfolio tbody tr").first.inner_text()
