"""The inventory pages: edit a system, register datasets and versions, archive, with the
server's errors shown next to the field and every change audited."""

import pytest
from django.test import Client

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.inventory.models import AISystem, Dataset, ModelVersion
from governance.inventory.services import ai_system_create, dataset_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(make_user):
    return make_user("requester", username="rita")


@pytest.fixture
def system(rita):
    return ai_system_create(
        actor=Actor.system("tests"), slug="churn", name="Churn", owner=rita, risk_tier="low"
    )


@pytest.fixture
def crm(rita):
    return dataset_create(
        actor=Actor.system("tests"),
        slug="crm",
        name="CRM",
        source="s3://crm",
        owner=rita,
        classification="internal",
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _edit_data(system: AISystem, **changes) -> dict:
    data = {
        "name": system.name,
        "description": "",
        "owner": system.owner_id,
        "technical_owner": "",
        "oncall_team": "",
        "risk_tier": system.risk_tier,
        "risk_rationale": "",
        "lifecycle_stage": system.lifecycle_stage,
        "intended_use": "",
        "out_of_scope_uses": "",
        "tags": "",
        "reason": "",
    }
    return {**data, **changes}


def test_raising_the_tier_without_a_reason_is_refused_by_the_reason_field(system, rita):
    response = signed_in(rita).post("/systems/churn/edit", _edit_data(system, risk_tier="high"))
    assert response.status_code == 400
    page = response.content.decode()
    reason = page[page.index('name="reason"') :]
    assert "Changing the risk tier needs a reason." in reason[:900]
    system.refresh_from_db()
    assert system.risk_tier == "low"
    assert not AuditEvent.objects.filter(action="inventory.system.updated").exists()


def test_editing_owners_stage_uses_and_environments_is_audited_with_the_reason(
    system, rita, make_user
):
    tom = make_user("requester", username="tom")
    response = signed_in(rita).post(
        "/systems/churn/edit",
        _edit_data(
            system,
            risk_tier="high",
            risk_rationale="Decides on credit limits",
            technical_owner=tom.pk,
            lifecycle_stage="validation",
            intended_use="Retention offers",
            deployment_environments=["staging", "production"],
            tags="eu-ai-act:high-risk, pii",
            reason="Scope grew to credit limits (RISK-7)",
        ),
    )
    assert response.status_code == 302 and response["Location"] == "/systems/churn/"
    system.refresh_from_db()
    assert system.risk_tier == "high" and system.technical_owner == tom
    assert system.deployment_environments == ["staging", "production"]
    assert system.tags == ["eu-ai-act:high-risk", "pii"]
    event = AuditEvent.objects.get(action="inventory.system.updated")
    assert event.reason == "Scope grew to credit limits (RISK-7)"
    assert event.before["risk_tier"] == "low" and event.after["risk_tier"] == "high"
    assert event.actor_name == "rita"


def test_registering_a_version_with_evaluation_rows_and_a_dataset(system, crm, rita):
    response = signed_in(rita).post(
        "/systems/churn/versions/new",
        {
            "version": "3.2.0",
            "framework": "sklearn",
            "framework_version": "1.5",
            "artifact_format": "onnx",
            "artifact_uri": "s3://models/churn/3.2.0/model.onnx",
            "artifact_sha256": "a" * 64,
            "code_commit_sha": "b" * 40,
            "datasets": ["crm"],
            "parameters": '{"max_depth": 6}',
            "evaluation-TOTAL_FORMS": "2",
            "evaluation-INITIAL_FORMS": "0",
            "evaluation-0-metric": "auc",
            "evaluation-0-value": "0.91",
            "evaluation-0-threshold": "0.85",
            "evaluation-0-dataset": "crm-holdout",
            "evaluation-1-metric": "",
        },
    )
    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert version.is_complete
    assert version.evaluation == [
        {"metric": "auc", "value": 0.91, "threshold": 0.85, "dataset": "crm-holdout"}
    ]
    assert [d.slug for d in version.datasets.all()] == ["crm"]
    assert AuditEvent.objects.get(action="inventory.version.registered").actor_name == "rita"


def test_bad_version_input_is_shown_by_each_field_and_registers_nothing(system, rita):
    response = signed_in(rita).post(
        "/systems/churn/versions/new",
        {
            "version": "3.2.0",
            "framework": "sklearn",
            "artifact_format": "onnx",
            "artifact_sha256": "not-a-hash",
            "parameters": '{"max_depth": 6,\n}',
            "evaluation-TOTAL_FORMS": "1",
            "evaluation-INITIAL_FORMS": "0",
            "evaluation-0-metric": "",
            "evaluation-0-value": "0.9",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "A SHA-256 is 64 lowercase hex digits." in page
    assert "Not valid JSON (line 2, column 1)" in page
    assert "Name the metric." in page
    assert not ModelVersion.objects.exists()


def test_a_duplicate_version_name_is_an_error_on_the_version_field(system, rita):
    data = {
        "version": "1.0",
        "framework": "sklearn",
        "artifact_format": "onnx",
        "evaluation-TOTAL_FORMS": "0",
        "evaluation-INITIAL_FORMS": "0",
    }
    client = signed_in(rita)
    assert client.post("/systems/churn/versions/new", data).status_code == 302
    again = client.post("/systems/churn/versions/new", data)
    assert again.status_code == 400
    page = again.content.decode()
    version_field = page[page.index('name="version"') :]
    assert "already has a version with that name" in version_field[:600]
    assert ModelVersion.objects.count() == 1


def test_the_version_form_takes_initial_values_from_the_query_string(system, crm, rita):
    page = (
        signed_in(rita)
        .get("/systems/churn/versions/new?version=4.0&artifact_format=safetensors&datasets=crm")
        .content.decode()
    )
    assert 'value="4.0"' in page
    assert '<option value="safetensors" selected>' in page
    assert 'value="crm" id="id_datasets_0" checked' in page or (
        'value="crm"' in page and "checked" in page
    )


def test_registering_a_dataset_returns_to_the_version_form(rita):
    response = signed_in(rita).post(
        "/datasets/new",
        {
            "name": "Claims 2025",
            "slug": "claims-2025",
            "source": "claims warehouse",
            "owner": rita.pk,
            "classification": "confidential",
            "lineage_uri": "https://lineage.example/claims",
            "next": "/systems/churn/versions/new",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/systems/churn/versions/new"
    assert Dataset.objects.get().slug == "claims-2025"
    assert AuditEvent.objects.filter(action="inventory.dataset.created").count() == 1


def test_dataset_form_refuses_an_offsite_next(rita):
    response = signed_in(rita).post(
        "/datasets/new",
        {
            "name": "X",
            "slug": "x",
            "source": "x",
            "owner": rita.pk,
            "classification": "public",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/systems/"


def test_archiving_needs_a_reason_then_is_audited(system, rita):
    client = signed_in(rita)
    client.post("/systems/churn/archive", {"reason": " "})
    system.refresh_from_db()
    assert system.archived_at is None
    client.post("/systems/churn/archive", {"reason": "Replaced by churn-v2"})
    system.refresh_from_db()
    assert system.archived_at is not None
    assert AuditEvent.objects.get(action="inventory.system.archived").reason == (
        "Replaced by churn-v2"
    )
    # An archived system takes no new versions and no edits.
    assert client.get("/systems/churn/versions/new").status_code == 403
    assert client.get("/systems/churn/edit").status_code == 403


@pytest.mark.parametrize("role", ["viewer", "approver", "auditor", "incident_commander"])
def test_roles_without_inventory_manage_are_refused(system, make_user, role):
    client = signed_in(make_user(role))
    assert client.get("/systems/churn/edit").status_code == 403
    assert client.post("/systems/churn/versions/new", {"version": "9"}).status_code == 403
    assert client.post("/datasets/new", {"name": "x"}).status_code == 403
    assert not ModelVersion.objects.exists() and not Dataset.objects.exists()


def test_system_page_offers_request_release_per_version_to_requesters(system, rita, make_user):
    signed_in(rita).post(
        "/systems/churn/versions/new",
        {
            "version": "1.0",
            "framework": "sklearn",
            "artifact_format": "onnx",
            "evaluation-TOTAL_FORMS": "0",
            "evaluation-INITIAL_FORMS": "0",
        },
    )
    page = signed_in(rita).get("/systems/churn/").content.decode()
    assert "/releases/new?system=churn&amp;model_version=1.0" in page
    assert "Edit system" in page
    viewer_page = signed_in(make_user("viewer")).get("/systems/churn/").content.decode()
    assert "Request release" not in viewer_page and "Edit system" not in viewer_page
