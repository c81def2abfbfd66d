"""Controls over the API: catalog, implementation updates with reasons, evidence, coverage."""

import hashlib
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.controls.models import ControlImplementation, Evidence
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db

G11 = quote("GOVERN 1.1")


@pytest.fixture
def setup(make_user):
    catalog_load(actor=Actor.system("tests"))
    owner = make_user(Role.REQUESTER, username="owner")
    ai_system_create(
        actor=Actor.system("tests"),
        slug="chatbot",
        name="Chatbot",
        owner=owner,
        risk_tier="high",
        is_genai=True,
    )
    ai_system_create(
        actor=Actor.system("tests"),
        slug="forecast",
        name="Forecast",
        owner=owner,
        risk_tier="low",
    )


@pytest.fixture
def approver(client_for, setup):
    return client_for(Role.APPROVER)


def test_catalog_lists_72_subcategories_with_guidance(approver):
    body = approver.get("/api/v1/catalog/subcategories?page_size=100").json()
    assert body["count"] == 72
    first = body["results"][0]
    assert (first["id"], first["function"], first["category"]) == (
        "GOVERN 1.1",
        "GOVERN",
        "GOVERN 1",
    )
    detail = approver.get(f"/api/v1/catalog/subcategories/{G11}").json()
    assert detail["genai_actions"][0]["id"] == "GV-1.1-001"
    assert approver.get("/api/v1/catalog/subcategories/GOVERN%209.9").status_code == 404


def test_update_needs_a_reason_and_changes_nothing_without_it(approver):
    url = f"/api/v1/systems/chatbot/controls/{G11}"
    response = approver.patch(url, {"status": "implemented"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/reason"
    assert not ControlImplementation.objects.exists()
    response = approver.patch(
        url,
        {"status": "implemented", "reason": "legal register in place", "owner": "owner"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "implemented"
    assert response.json()["owner"] == "owner"
    assert AuditEvent.objects.filter(action="controls.implementation.status_changed").count() == 1


def test_not_applicable_without_justification_is_a_field_error(approver):
    response = approver.patch(
        f"/api/v1/systems/chatbot/controls/{G11}",
        {"status": "not_applicable", "reason": "n/a"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/justification"


def test_unknown_control_id_is_404(approver):
    response = approver.patch(
        "/api/v1/systems/chatbot/controls/GOVERN%209.9",
        {"status": "implemented", "reason": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_evidence_upload_and_links(approver):
    url = f"/api/v1/systems/chatbot/controls/{G11}/evidence"
    content = b"Register of AI regulations, v3"
    upload = SimpleUploadedFile("register.txt", content, content_type="text/plain")
    response = approver.post(url, {"title": "Legal register", "file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    link = approver.post(
        url, {"title": "Wiki page", "url": "https://wiki.example.com/legal"}, format="json"
    )
    assert link.status_code == 201
    both = approver.post(
        url,
        {"title": "x", "url": "https://a.example", "object_type": "incident", "object_id": "7"},
        format="json",
    )
    assert both.status_code == 400
    detail = approver.get(f"/api/v1/systems/chatbot/controls/{G11}").json()
    assert [e["title"] for e in detail["evidence"]] == ["Wiki page", "Legal register"]
    assert Evidence.objects.count() == 2


def test_disallowed_file_type_is_refused(approver):
    upload = SimpleUploadedFile("payload.exe", b"MZ", content_type="application/octet-stream")
    response = approver.post(
        f"/api/v1/systems/chatbot/controls/{G11}/evidence",
        {"title": "binary", "file": upload},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/file"
    assert not Evidence.objects.exists()


def test_coverage_moves_when_a_control_is_implemented(approver):
    before = approver.get("/api/v1/systems/chatbot/coverage").json()
    assert before["total"]["required"] == 72
    assert before["total"]["implemented"] == 0
    approver.patch(
        f"/api/v1/systems/chatbot/controls/{G11}",
        {"status": "implemented", "reason": "done"},
        format="json",
    )
    after = approver.get("/api/v1/systems/chatbot/coverage").json()
    assert after["total"]["implemented"] == 1
    assert after["categories"]["GOVERN 1"]["implemented"] == 1
    assert "GOVERN 1.1" not in after["gaps"]


def test_portfolio_puts_the_riskiest_least_covered_first(approver):
    systems = approver.get("/api/v1/coverage").json()["systems"]
    assert [s["system"] for s in systems] == ["chatbot", "forecast"]


def test_control_list_and_export(approver):
    approver.patch(
        f"/api/v1/systems/forecast/controls/{G11}",
        {"status": "in_progress", "reason": "drafting"},
        format="json",
    )
    rows = approver.get("/api/v1/systems/forecast/controls").json()
    assert len(rows) == 72
    assert sum(r["required"] for r in rows) < 72
    export = approver.get("/api/v1/systems/forecast/controls/export")
    assert export.status_code == 200
    assert "attachment" in export["Content-Disposition"]
    assert [c["id"] for c in export.json()["controls"]] == ["GOVERN 1.1"]


def test_viewers_read_but_cannot_change(client_for, setup):
    viewer = client_for(Role.VIEWER)
    assert viewer.get("/api/v1/systems/chatbot/coverage").status_code == 200
    response = viewer.patch(
        f"/api/v1/systems/chatbot/controls/{G11}",
        {"status": "implemented", "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert not ControlImplementation.objects.exists()


def test_object_links_must_point_at_something_real(approver):
    url = f"/api/v1/systems/chatbot/controls/{G11}/evidence"
    event = AuditEvent.objects.order_by("sequence").first()
    ok = approver.post(
        url,
        {"title": "Approval trail", "object_type": "audit.event", "object_id": str(event.sequence)},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    missing = approver.post(
        url, {"title": "x", "object_type": "audit.event", "object_id": "999999"}, format="json"
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["pointer"] == "#/object_id"
    unknown = approver.post(
        url, {"title": "x", "object_type": "spreadsheet", "object_id": "1"}, format="json"
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["pointer"] == "#/object_type"
    assert Evidence.objects.count() == 1
