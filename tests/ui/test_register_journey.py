"""A requester does the whole registration in the browser, at 1440 and 390 px: dataset,
model version with evaluation rows (field errors first), then "Request release" from the
version row, submitted for approval."""

import re

import pytest

from governance.audit.models import AuditEvent
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.models import ModelVersion
from governance.inventory.services import ai_system_create
from governance.policy.services import policy_directory_load
from governance.releases.models import ReleaseRequest, ReleaseState
from tests.ui.conftest import assert_fits, nav_click

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_requester_registers_a_version_and_requests_its_release(
    person, sign_in, live_server, viewport, shot
):
    actor = Actor.system("tests")
    catalog_load(actor=actor)
    policy_directory_load(actor=actor)
    rita = person("rita", "requester")
    ai_system_create(
        actor=actor, slug="claims-triage", name="Claims triage", owner=rita, risk_tier="high"
    )
    page = sign_in("rita")
    nav_click(page, "AI systems")
    page.click("text=Claims triage")
    page.wait_for_url(re.compile(r"/systems/claims-triage/$"))
    assert_fits(page)
    page.click("text=Register a model version")
    page.click("text=Register a dataset")
    page.fill("#id_name", "Claims 2025")
    page.fill("#id_slug", "claims-2025")
    page.fill("#id_source", "claims warehouse")
    page.select_option("#id_classification", "confidential")
    page.fill("#id_lineage_uri", "https://lineage.example/claims")
    page.click("button:has-text('Register dataset')")
    page.wait_for_url(re.compile(r"/systems/claims-triage/versions/new$"))

    page.fill("#id_version", "1.4.0")
    page.select_option("#id_framework", "sklearn")
    page.select_option("#id_artifact_format", "onnx")
    page.fill("#id_artifact_sha256", "ABC")
    page.fill("#id_parameters", '{"max_depth": 6,}')
    page.fill("#id_evaluation-0-metric", "auc")
    page.fill("#id_evaluation-0-value", "0.91")
    page.fill("#id_evaluation-0-threshold", "0.85")
    page.click("button:has-text('Register version')")
    sha = page.locator(".field.has-error", has_text="Artifact SHA-256")
    assert "64 lowercase hex digits" in sha.inner_text()
    assert "Not valid JSON" in page.locator(".field.has-error", has_text="Parameters").inner_text()
    assert not ModelVersion.objects.exists()
    assert_fits(page)
    shot("version-form-errors")

    page.fill("#id_artifact_sha256", "a" * 64)
    page.fill("#id_code_commit_sha", "b" * 40)
    page.fill("#id_parameters", '{"max_depth": 6}')
    page.check("text=Claims 2025")
    page.click("button:has-text('Register version')")
    page.wait_for_url(re.compile(r"/systems/claims-triage/$"))
    assert "Version 1.4.0 registered." in page.locator(".message-success").inner_text()
    version = ModelVersion.objects.get()
    assert version.is_complete and version.evaluation[0]["threshold"] == 0.85
    shot("system-with-version")

    page.locator("tr", has_text="1.4.0").locator("text=Request release").click()
    page.wait_for_url(re.compile(r"/releases/new\?"))
    assert page.input_value("#id_model_version") == "1.4.0"
    page.select_option("#id_environment", "production")
    page.fill("#id_title", "Claims triage 1.4.0 to production")
    page.fill("#id_change_summary", "New gradient-boosted model")
    page.fill("#id_justification", "Better recall on the 2025 holdout")
    page.click("button:has-text('Save draft')")
    page.wait_for_url(re.compile(r"/releases/[0-9a-f-]+/$"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Submit for approval')")
    page.wait_for_selector(".state-submitted")
    assert ReleaseRequest.objects.get().state == ReleaseState.SUBMITTED
    assert AuditEvent.objects.filter(action="inventory.version.registered").count() == 1
    assert_fits(page)
    shot("release-submitted")
