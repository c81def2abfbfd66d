"""Control pages: status changes and evidence through the web forms, portfolio, applicability."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.controls.models import ControlImplementation, Evidence, TierRequirement
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db

URL = f"/systems/chatbot/controls/{quote('MAP 1.1')}/"


@pytest.fixture
def system(make_user):
    catalog_load(actor=Actor.system("tests"))
    owner = make_user(Role.REQUESTER, username="owner")
    return ai_system_create(
        actor=Actor.system("tests"),
        slug="chatbot",
        name="Chatbot",
        owner=owner,
        risk_tier="high",
        is_genai=True,
    )


def test_control_page_shows_nist_text_playbook_and_genai_actions(client_for, system):
    html = client_for(Role.VIEWER).get(URL).content.decode()
    assert "Intended purposes, potentially beneficial uses" in html
    assert "Suggested actions" in html
    assert "MP-1.1-001" in html
    assert "Change status" not in html  # viewers read only


def test_status_change_through_the_form(client_for, system):
    client = client_for(Role.APPROVER)
    form = {"form": "status", "status": "implemented", "implementation": "Use-case register"}
    refused = client.post(URL, form)
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    assert not ControlImplementation.objects.exists()
    done = client.post(URL, {**form, "reason": "register approved by legal"})
    assert done.status_code == 302
    impl = ControlImplementation.objects.get()
    assert (impl.status, impl.implementation) == ("implemented", "Use-case register")
    assert AuditEvent.objects.filter(action="controls.implementation.status_changed").exists()


def test_not_applicable_needs_justification_in_the_form(client_for, system):
    response = client_for(Role.APPROVER).post(
        URL, {"form": "status", "status": "not_applicable", "reason": "no"}
    )
    assert response.status_code == 400
    assert "Not applicable needs a justification." in response.content.decode()
    assert not ControlImplementation.objects.exists()


def test_evidence_upload_through_the_form(client_for, system):
    client = client_for(Role.REQUESTER)
    upload = SimpleUploadedFile("dpia.pdf", b"%PDF-1.4 dpia", content_type="application/pdf")
    response = client.post(URL, {"form": "evidence", "title": "DPIA", "file": upload})
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.title == "DPIA"
    download = client_for(Role.AUDITOR).get(f"{URL}evidence/{evidence.pk}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 dpia"
    assert download["X-Content-SHA256"] == evidence.sha256
    bad = SimpleUploadedFile("script.sh", b"#!/bin/sh", content_type="text/x-sh")
    response = client.post(URL, {"form": "evidence", "title": "Script", "file": bad})
    assert response.status_code == 400
    assert ".sh files are not accepted" in response.content.decode()
    assert Evidence.objects.count() == 1


def test_admin_edits_the_applicability_profile(client_for, system):
    admin = client_for(Role.ADMIN)
    response = admin.post(
        "/controls/applicability/",
        {"risk_tier": "low", "required": ["GOVERN 1.1", "MAP 1.1"], "reason": "pilot scope"},
    )
    assert response.status_code == 302
    codes = set(
        TierRequirement.objects.filter(risk_tier="low").values_list("subcategory__code", flat=True)
    )
    assert codes == {"GOVERN 1.1", "MAP 1.1"}
    refused = admin.post("/controls/applicability/", {"risk_tier": "low", "required": ["MAP 1.1"]})
    assert refused.status_code == 400
    assert TierRequirement.objects.filter(risk_tier="low").count() == 2


def test_portfolio_and_system_list_queries_are_bounded(
    client_for, system, make_user, django_assert_max_num_queries
):
    owner = make_user(Role.REQUESTER)
    for i in range(10):
        ai_system_create(
            actor=Actor.system("tests"),
            slug=f"s{i}",
            name=f"S{i}",
            owner=owner,
            risk_tier=("low", "high")[i % 2],
        )
    client = client_for(Role.VIEWER)
    with django_assert_max_num_queries(12):
        assert client.get("/portfolio/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/systems/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get("/systems/chatbot/").status_code == 200


def test_system_list_filters_by_coverage(client_for, system):
    html = client_for(Role.VIEWER).get("/systems/?coverage=good").content.decode()
    assert "No AI systems match." in html
    html = client_for(Role.VIEWER).get("/systems/?coverage=low").content.decode()
    assert "Chatbot" in html
