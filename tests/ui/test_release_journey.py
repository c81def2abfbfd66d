"""Release approvals in the browser: a requester submits, approver A approves with a reason,
approver B approves, the request is approved, and the audit page shows every step."""

import re

import pytest

from governance.audit.models import AuditEvent
from governance.releases.models import ReleaseRequest, ReleaseState
from tests.releases.conftest import COMPLETE
from tests.ui.conftest import assert_fits, nav_click, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _inventory(owner):
    from governance.controls.services import catalog_load
    from governance.core.actor import Actor
    from governance.inventory.services import (
        ai_system_create,
        dataset_create,
        model_version_register,
    )
    from governance.policy.services import policy_directory_load

    actor = Actor.system("tests")
    catalog_load(actor=actor)
    crm = dataset_create(
        actor=actor,
        slug="claims",
        name="Claims 2025",
        source="s3://claims",
        owner=owner,
        classification="confidential",
        lineage_uri="https://lineage.example/claims",
    )
    system = ai_system_create(
        actor=actor, slug="claims-triage", name="Claims triage", owner=owner, risk_tier="high"
    )
    model_version_register(
        actor=actor,
        system=system,
        version="4.2.0",
        framework="pytorch",
        artifact_format="onnx",
        datasets=[crm],
        **COMPLETE,
    )
    policy_directory_load(actor=actor)


def test_requester_submits_two_approvers_approve_and_the_audit_log_shows_each_step(
    person, sign_in, live_server, page, viewport, shot
):
    rita = person("rita", "requester")
    person("anna", "approver")
    person("bert", "approver")
    person("ada", "admin")
    _inventory(rita)

    # The requester drafts and submits.
    sign_in("rita")
    nav_click(page, "Approvals")
    page.wait_for_url(re.compile(r"/releases/$"))
    page.click("text=New release request")
    page.select_option("#id_system", "claims-triage")
    page.fill("#id_model_version", "4.2.0")
    page.select_option("#id_environment", "production")
    page.fill("#id_title", "Claims triage 4.2.0 to production")
    page.fill("#id_change_summary", "ONNX export of the retrained triage model (Q3 claims).")
    page.fill("#id_justification", "Recall on fraud claims +6 points; latency unchanged.")
    page.fill("#id_evaluation_links", "https://mlflow.example/runs/981")
    page.click("button:has-text('Save draft')")
    page.wait_for_selector("text=Draft saved")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Submit for approval')")
    page.wait_for_selector(".message-success")
    assert "Waiting for approval" in page.inner_text("h1")
    assert "0 / 2" in page.inner_text(".approval-count")
    assert "approvals.insufficient" in page.inner_text(".verdict + table, .violations")
    shot("release-submitted-requester")
    release = ReleaseRequest.objects.get()
    detail = f"{live_server.url}/releases/{release.public_id}/"
    sign_out(page)

    # Approver A finds it waiting and approves with a reason.
    sign_in("anna")
    page.goto(f"{live_server.url}/releases/")
    page.click("#waiting-for-me >> text=Claims triage 4.2.0 to production")
    page.wait_for_selector(".banner-you")
    # At a glance: nothing in production yet -> 4.2.0, its metric against the bar, and the
    # policy's latest word by the Approve button (only approvals missing).
    glance = page.locator("#at-a-glance")
    assert "Nothing deployed to production yet" in glance.inner_text()
    assert "4.2.0" in glance.locator(".glance-to").inner_text()
    auc = glance.locator("tr", has_text="auc")
    assert "0.91" in auc.inner_text() and "✓ meets" in auc.inner_text()
    # Coverage gaps block production too: the chip counts them apart from the approvals.
    assert "1 blocking besides approvals" in page.inner_text("#approve-chip")
    assert_fits(page)
    shot("release-approver-a-view")
    dialogs: list[str] = []

    def note(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", note)
    page.click("button[value=approve]")  # no reason: the browser holds the form back
    assert page.evaluate("document.querySelector('#id_reason').validity.valueMissing")
    assert dialogs == []  # ...before any confirm: that comes only once the form is complete
    page.fill("#id_reason", "Recall gain verified in run 981; fairness report attached.")
    page.click("button[value=approve]")  # a dismissed confirm sends nothing
    assert dialogs and dialogs[0].startswith("Approve claims-triage@4.2.0")
    page.remove_listener("dialog", note)
    assert not release.approvals.exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[value=approve]")
    page.wait_for_selector(".message-success")
    assert "1 / 2" in page.inner_text(".approval-count")
    sign_out(page)

    # Approver B re-checks first: the policy now counts A's approval.
    sign_in("bert")
    page.goto(detail)
    page.fill("#id_reason", "Model risk sign-off MR-77.")
    page.click("button:has-text('Re-check now')")
    assert "Re-checked just now" in page.locator(".recheck-note").inner_text()
    assert page.input_value("#id_reason") == "Model risk sign-off MR-77."  # typing survives
    assert AuditEvent.objects.filter(action="releases.request.rechecked").count() == 1
    page.fill("#id_reason", "Model risk sign-off MR-77.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[value=approve]")
    page.wait_for_selector(".message-success")
    assert "Approved" in page.inner_text("h1")
    assert "2 / 2" in page.inner_text(".approval-count")
    timeline = page.inner_text("#timeline")
    for action in ("submitted", "approval.recorded", "request.approved"):
        assert action in timeline
    shot("release-approved")
    release.refresh_from_db()
    assert release.state == ReleaseState.APPROVED
    sign_out(page)

    # The audit page shows every step.
    sign_in("ada")
    page.goto(f"{live_server.url}/audit/?target_id={release.public_id}")
    text = page.inner_text("#results")
    for action in (
        "releases.request.created",
        "releases.request.submitted",
        "releases.approval.recorded",
        "releases.request.approved",
    ):
        assert action in text, action
    assert "Model risk sign-off MR-77." in text
    shot("release-audit")
    assert (
        AuditEvent.objects.filter(
            target_id=str(release.public_id), action="releases.approval.recorded"
        ).count()
        == 2
    )
