"""The policy pages: overview, data editor, versions with diffs, try a decision, decision log."""

import pytest
from django.test import Client

from governance.audit.models import AuditEvent
from governance.policy.models import Decision, PolicyVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_as(make_user):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(make_user(role))
        return client

    return make


def test_overview_shows_the_active_version_sources_data_and_tests(world, browser_as):
    page = browser_as("viewer").get("/policy/").content.decode()
    assert f"v{world.policy.number} active" in page
    assert "supply_chain.rego" in page
    assert "freeze_windows" in page
    assert "test_pickle_refused_in_production" in page


def test_try_a_decision_shows_the_verdict_and_logs_it(world, browser_as):
    client = browser_as("requester")
    response = client.post(
        "/policy/try/",
        {"system": "churn", "model_version": "2.1-pkl", "environment": "production"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "DENIED" in page
    assert "Artifact format pickle is not allowed in production." in page
    assert "MEASURE 2.7" in page
    assert Decision.objects.get().endpoint == "ui"


def test_try_with_an_unknown_version_is_a_form_error_and_logs_nothing(world, browser_as):
    response = browser_as("requester").post(
        "/policy/try/", {"system": "churn", "model_version": "0.0", "environment": "staging"}
    )
    assert response.status_code == 400
    assert "Unknown model version" in response.content.decode()
    assert not Decision.objects.exists()


def test_htmx_try_with_an_unknown_version_answers_422_with_the_error_by_the_field(
    world, browser_as
):
    response = browser_as("requester").post(
        "/policy/try/",
        {"system": "churn", "model_version": "0.0", "environment": "staging"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    page = response.content.decode()
    field = page[page.index('id="id_model_version"') :]
    assert "Unknown model version" in field[: field.index("</div>") + 200]
    assert 'id="try-area"' in page
    assert not Decision.objects.exists()


def test_htmx_decision_filter_with_a_bad_value_answers_422_and_shows_no_rows(world, browser_as):
    response = browser_as("admin").get("/policy/decisions/?allow=maybe", HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    page = response.content.decode()
    assert 'hx-swap-oob="true"' in page and "Select a valid choice" in page
    assert "No decisions match." in page


def test_admin_edits_data_into_a_candidate_then_activates_it_with_a_reason(world, browser_as):
    admin = browser_as("admin")
    bad = admin.post("/policy/data/", {"data": "{oops", "note": "x"})
    assert bad.status_code == 400 and "Not valid JSON" in bad.content.decode()
    import json

    data = {**world.policy.data, "exceptions": {"pickle": ["churn@2.1-pkl"]}}
    response = admin.post("/policy/data/", {"data": json.dumps(data), "note": "risk accepted"})
    candidate = PolicyVersion.objects.get(number=world.policy.number + 1)
    assert response.status_code == 302
    page = admin.get(f"/policy/versions/{candidate.number}/").content.decode()
    assert "churn@2.1-pkl" in page and 'class="add"' in page
    refused = admin.post(
        f"/policy/versions/{candidate.number}/", {"action": "activate", "reason": ""}
    )
    assert refused.status_code == 400
    admin.post(f"/policy/versions/{candidate.number}/", {"action": "activate", "reason": "MRB-42"})
    candidate.refresh_from_db()
    assert candidate.status == "active"
    assert AuditEvent.objects.filter(action="policy.version.activated", reason="MRB-42").exists()


def test_decision_log_filters_by_outcome(world, browser_as):
    client = browser_as("requester")
    for version, env in (("2.0", "staging"), ("2.1-pkl", "production")):
        client.post(
            "/policy/try/", {"system": "churn", "model_version": version, "environment": env}
        )
    page = client.get("/policy/decisions/?allow=false", HTTP_HX_REQUEST="true").content.decode()
    assert "churn@2.1-pkl" in page and "churn@2.0" not in page
    decision = Decision.objects.get(model_version="2.1-pkl")
    detail = client.get(f"/policy/decisions/{decision.decision_id}/").content.decode()
    assert "secret fields masked" in detail and "DENIED" in detail


def test_policy_data_error_names_the_line_and_quotes_it(world, browser_as):
    text = '{\n  "evaluation": {\n    "regression_tolerance": 0.02,,\n  }\n}'
    bad = browser_as("admin").post("/policy/data/", {"data": text, "note": "typo"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Not valid JSON:" in page and "(line 3, column 34)" in page
    assert "Line 3 reads: &quot;regression_tolerance&quot;: 0.02,," in page
