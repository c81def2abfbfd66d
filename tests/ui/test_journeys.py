"""What people do in the web UI, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from governance.accounts.models import ApiToken
from governance.audit.models import AuditEvent
from governance.inventory.models import AISystem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_reads_the_audit_log_and_filters_it(person, sign_in, live_server, shot):
    person("ada", "admin")
    page = sign_in("ada")
    assert page.locator(".stat", has_text="audit events").count() == 1
    shot("dashboard-admin")
    page.click("nav >> text=Audit log")
    page.wait_for_url(re.compile(r"/audit/"))
    assert page.locator("td", has_text="accounts.login.succeeded").count() >= 1
    page.fill("#id_action", "accounts.user")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"action=accounts.user"))
    expect(page.locator("td", has_text="accounts.login.succeeded")).to_have_count(0)
    actions = page.locator("table.events tbody td:nth-child(4)").all_inner_texts()
    assert actions
    assert all(a.startswith("accounts.user") for a in actions)
    shot("audit-filtered")


def test_admin_creates_and_revokes_a_token(person, sign_in, live_server, shot):
    person("ada", "admin")
    page = sign_in("ada")
    page.click("nav >> text=API tokens")
    page.fill("#id_name", "github-actions-deploy")
    page.check("input[value='inventory.view']")
    page.click("text=Create token")
    secret = page.locator("#token-secret").inner_text().strip()
    assert secret.startswith("gov_")
    shot("token-created")
    page.click("text=Back to API tokens")
    row = page.locator("tr", has_text="github-actions-deploy")
    assert row.locator(".pill-ok").inner_text() == "active"
    assert secret not in page.content()
    # Revoking needs a reason: the browser refuses an empty one, and so does the server.
    row.locator("summary", has_text="Revoke").click()
    row.locator("button", has_text="Revoke now").click()
    assert ApiToken.objects.get().revoked_at is None
    row.locator("textarea").fill("rotated after the audit")
    row.locator("button", has_text="Revoke now").click()
    page.wait_for_selector(".message-success")
    assert "revoked" in page.locator("tr", has_text="github-actions-deploy").inner_text()
    assert ApiToken.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(action="accounts.token.revoked").count() == 1
    shot("token-revoked")


def test_viewer_sees_no_admin_sections_and_is_refused_the_audit_log(
    person, sign_in, live_server, shot
):
    person("vera", "viewer")
    page = sign_in("vera")
    nav = page.locator("nav.nav").inner_text()
    assert "AI systems" in nav
    assert "Audit log" not in nav
    assert "API tokens" not in nav
    shot("dashboard-viewer")
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403
    assert "Permission denied" in page.content()


def test_requester_registers_a_system_and_sees_field_errors(person, sign_in, live_server, shot):
    person("rita", "requester")
    page = sign_in("rita")
    page.click("nav >> text=AI systems")
    page.click("text=Register an AI system")
    page.fill("#id_name", "Claims triage")
    page.fill("#id_slug", "Claims Triage!")
    page.select_option("#id_owner", label="Rita")
    page.select_option("#id_risk_tier", "high")
    page.click("main button[type=submit]")
    assert page.locator(".field.has-error", has_text="Slug").count() == 1
    assert not AISystem.objects.exists()
    shot("system-form-error")
    page.fill("#id_slug", "claims-triage")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/systems/claims-triage/"))
    assert "Claims triage" in page.locator("h1").inner_text()
    assert AISystem.objects.get().owner.username == "rita"
    shot("system-detail")


def test_sign_out_then_pages_need_a_login(person, sign_in, live_server):
    person("vera", "viewer")
    page = sign_in("vera")
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r"/login/"))
    page.goto(f"{live_server.url}/dashboard/")
    assert re.search(r"/login/\?next=/dashboard/", page.url)


def test_swagger_ui_renders_from_local_assets(page, live_server, shot):
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    shot("swagger")
    assert "Governance control plane API" in page.locator(".info .title").inner_text()
    assert page.locator(".opblock-tag", has_text="audit").count() >= 1
    assert failed == []
