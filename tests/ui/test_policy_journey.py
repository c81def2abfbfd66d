"""Policy in the browser: try a decision, read why it was denied, edit the data, activate."""

import json
import re

import pytest

from governance.audit.models import AuditEvent
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create, dataset_create, model_version_register
from governance.policy.models import Decision, PolicyVersion
from governance.policy.services import policy_directory_load
from tests.ui.conftest import assert_fits, nav_click

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_tries_a_decision_then_records_a_pickle_exception_and_activates_it(
    person, sign_in, live_server, viewport, shot
):
    actor = Actor.system("tests")
    ada = person("ada", "admin")
    catalog_load(actor=actor)
    crm = dataset_create(
        actor=actor,
        slug="crm",
        name="CRM",
        source="s3://crm",
        owner=ada,
        classification="internal",
        lineage_uri="https://lineage.example/crm",
    )
    system = ai_system_create(actor=actor, slug="churn", name="Churn", owner=ada, risk_tier="low")
    model_version_register(
        actor=actor,
        system=system,
        version="3.0",
        framework="sklearn",
        artifact_format="pickle",
        datasets=[crm],
        code_commit_sha="b" * 40,
        parameters={"depth": 4},
        evaluation=[{"metric": "auc", "value": 0.9, "threshold": 0.8}],
    )
    policy_directory_load(actor=actor)

    page = sign_in("ada")
    nav_click(page, "Policy")
    page.wait_for_url(re.compile(r"/policy/$"))
    assert "v1 active" in page.locator("h1").inner_text()
    shot("policy-overview")

    page.click("text=Try a decision")
    page.select_option("#id_system", "churn")
    page.fill("#id_model_version", "3.0")
    page.select_option("#id_environment", "production")
    page.click("button:has-text('Decide')")
    page.wait_for_selector(".verdict-deny")
    assert "Artifact format pickle is not allowed in production." in page.inner_text("#try-result")
    assert page.locator("#try-result a.pill", has_text="MEASURE 2.7").count() == 1
    shot("policy-try-denied")

    page.goto(f"{live_server.url}/policy/data/")
    data = json.loads(page.input_value("#id_data"))
    data["exceptions"]["pickle"] = ["churn@3.0"]
    page.fill("#id_data", json.dumps(data, indent=2))
    page.fill("#id_note", "Pickle accepted for churn 3.0 until the ONNX export lands (RISK-12)")
    # Saving compiles the bundle and runs its Rego tests in the request: seconds on a busy
    # machine, so the click and the page it leads to get a timeout of their own.
    page.click("text=Save as candidate version", timeout=60_000)
    page.wait_for_url(re.compile(r"/policy/versions/2/"), timeout=60_000)
    assert page.locator("pre.diff-lines .add", has_text="churn@3.0").count() == 1
    assert_fits(page)
    shot("policy-version-diff")
    page.fill("#id_reason", "RISK-12 accepted by the model risk board")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[value=activate]", timeout=60_000)
    page.wait_for_selector(".message-success", timeout=60_000)
    assert PolicyVersion.objects.get(number=2).status == "active"
    assert AuditEvent.objects.filter(action="policy.version.activated").count() == 2

    page.goto(f"{live_server.url}/policy/try/")
    page.select_option("#id_system", "churn")
    page.fill("#id_model_version", "3.0")
    page.select_option("#id_environment", "production")
    page.click("button:has-text('Decide')")
    page.wait_for_selector(".verdict-allow")
    assert "recorded exception" in page.inner_text("#try-result")

    page.goto(f"{live_server.url}/policy/decisions/")
    rows = page.locator("table.decisions tbody tr")
    assert rows.count() == 2
    shot("policy-decision-log")
    rows.nth(1).locator("a").first.click()
    page.wait_for_selector(".verdict-deny")
    shot("policy-decision-detail")
    assert Decision.objects.filter(allow=False).count() == 1
