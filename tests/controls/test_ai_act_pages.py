"""The EU AI Act over the API and in the web UI: classify with the guided questions, see the
obligations with the NIST evidence counting toward them, edit the crosswalk with a reason."""

import pytest
from django.core.management import call_command

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.controls.models import AIActClassification, CrosswalkLink, Subcategory
from governance.controls.services import evidence_add
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def system(make_user):
    call_command("load_catalog", verbosity=0)
    return ai_system_create(
        actor=Actor.system("tests"),
        slug="credit-risk",
        name="Credit risk scoring",
        owner=make_user(Role.REQUESTER),
        risk_tier="high",
    )


def test_admins_classify_over_the_api_and_bad_answers_are_field_errors(system, client_for):
    admin = client_for(Role.ADMIN)
    assert admin.get("/api/v1/systems/credit-risk/ai-act").json() == {
        "system": "credit-risk",
        "classified": False,
        "classification": None,
    }
    bad = admin.put(
        "/api/v1/systems/credit-risk/ai-act",
        {"role": "provider", "annex_iii_area": "12", "reasons": ""},
        format="json",
    )
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/problem+json")
    pointers = {e["pointer"] for e in bad.json()["errors"]}
    assert {"#/annex_iii_area", "#/reasons"} <= pointers
    assert not AIActClassification.objects.exists()
    ok = admin.put(
        "/api/v1/systems/credit-risk/ai-act",
        {"role": "provider", "annex_iii_area": "5b", "reasons": "Consumer credit scoring"},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    body = ok.json()["classification"]
    assert body["risk_class"] == "high_risk" and "Art. 43" in body["obligations"]
    coverage = admin.get("/api/v1/systems/credit-risk/coverage?framework=eu-ai-act-2024-1689")
    assert coverage.json()["framework"] == "eu-ai-act-2024-1689"
    assert coverage.json()["total"]["required"] == 12
    assert admin.get("/api/v1/systems/credit-risk/coverage?framework=nope").status_code == 404
    frameworks = {f["slug"] for f in admin.get("/api/v1/frameworks").json()}
    assert frameworks == {"nist-ai-rmf-1.0", "eu-ai-act-2024-1689"}


def test_classifying_an_archived_system_is_a_409_conflict_not_a_field_error(system, client_for):
    """A well-formed request refused for the system's state (schemathesis counts a 400 for a
    schema-valid body as a rejected valid request)."""
    from governance.inventory.services import ai_system_archive

    ai_system_archive(actor=Actor.system("tests"), system=system, reason="retired")
    refused = client_for(Role.ADMIN).put(
        "/api/v1/systems/credit-risk/ai-act",
        {"role": "provider", "annex_iii_area": "5b", "reasons": "Consumer credit scoring"},
        format="json",
    )
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("application/problem+json")
    assert "archived" in refused.json()["detail"]
    assert not AIActClassification.objects.exists()
    assert not AuditEvent.objects.filter(action="controls.ai_act.classified").exists()


def test_the_published_schema_states_that_systemic_risk_needs_a_gpai_model(system, client_for):
    """make fuzz sent a schema-valid body the service refused (systemic risk without a GPAI
    model): the OpenAPI now says what the service enforces, and the two agree."""
    import jsonschema
    from drf_spectacular.generators import SchemaGenerator
    from referencing import Registry, Resource

    document = SchemaGenerator().get_schema(request=None, public=True)
    registry = Registry().with_resource("urn:openapi", Resource.opaque(document))
    validator = jsonschema.Draft4Validator(
        {"$ref": "urn:openapi#/components/schemas/ClassifyInputRequest"}, registry=registry
    )
    admin = client_for(Role.ADMIN)
    base = {"role": "provider", "reasons": "General-purpose model"}
    for answers, valid in (
        ({"gpai_systemic_risk": True, "gpai_model": False}, False),
        ({"gpai_systemic_risk": True}, False),
        ({"gpai_systemic_risk": True, "gpai_model": True}, True),
        ({"gpai_model": False}, True),
        ({}, True),
    ):
        body = {**base, **answers}
        assert validator.is_valid(body) == valid, body
        response = admin.put("/api/v1/systems/credit-risk/ai-act", body, format="json")
        assert response.status_code == (200 if valid else 400), (body, response.content)


def test_the_ai_act_page_shows_obligations_with_nist_evidence(system, client_for):
    evidence_add(
        actor=Actor.system("tests"),
        system=system,
        subcategory=Subcategory.objects.get(code="GOVERN 1.1"),
        title="Legal register",
        url="https://wiki.example.com/legal",
    )
    admin = client_for(Role.ADMIN)
    page = admin.get("/systems/credit-risk/ai-act/").content.decode()
    assert "Not classified" in page and "Classify" in page
    response = admin.post(
        "/systems/credit-risk/ai-act/",
        {"role": "provider", "annex_iii_area": "5b", "reasons": ""},
    )
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = admin.post(
        "/systems/credit-risk/ai-act/",
        {"role": "provider", "annex_iii_area": "5b", "reasons": "Consumer credit scoring"},
    )
    assert response.status_code == 302
    page = admin.get("/systems/credit-risk/ai-act/").content.decode()
    assert "High-risk (Art. 6)" in page and "Art. 43" in page
    assert "GOVERN 1.1" in page  # Art. 43 and Art. 49 are supported by the legal register
    viewer = client_for(Role.VIEWER).get("/systems/credit-risk/ai-act/").content.decode()
    assert "High-risk (Art. 6)" in viewer and "Save the classification" not in viewer
    control = admin.get("/systems/credit-risk/controls/Art. 49/").content.decode()
    assert "Binds this system" in control and "Legal register" in control


def test_admins_edit_the_crosswalk_from_a_control_page(system, client_for):
    admin = client_for(Role.ADMIN)
    back = "/systems/credit-risk/controls/Art. 12/"
    admin.post(
        "/controls/Art. 12/crosswalk", {"targets": "MEASURE 2.4", "reason": "", "next": back}
    )
    assert CrosswalkLink.objects.filter(source__code="Art. 12").count() == 3  # unchanged
    response = admin.post(
        "/controls/Art. 12/crosswalk",
        {"targets": "MEASURE 2.4\nMANAGE 4.1", "reason": "Logging is monitoring", "next": back},
    )
    assert response.status_code == 302 and response["Location"].replace("%20", " ") == back
    assert set(
        CrosswalkLink.objects.filter(source__code="Art. 12").values_list("target__code", flat=True)
    ) == {"MEASURE 2.4", "MANAGE 4.1"}
    assert AuditEvent.objects.filter(action="controls.crosswalk.changed").count() == 1
    outside = admin.post(
        "/controls/Art. 12/crosswalk",
        {"targets": "MEASURE 2.4", "reason": "r", "next": "https://evil.example/"},
    )
    assert outside["Location"] == "/controls/"
