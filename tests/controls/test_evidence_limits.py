"""Evidence has its own upload limit, and files a browser could run come back as opaque bytes."""

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.accounts.models import Role
from governance.controls.models import Evidence
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db

G11 = quote("GOVERN 1.1")
API = f"/api/v1/systems/chatbot/controls/{G11}/evidence"
PAGE = "/systems/chatbot/controls/GOVERN%201.1/"
MIB = 1024 * 1024


@pytest.fixture
def requester(client_for, make_user):
    catalog_load(actor=Actor.system("tests"))
    ai_system_create(
        actor=Actor.system("tests"),
        slug="chatbot",
        name="Chatbot",
        owner=make_user(Role.REQUESTER, username="owner"),
        risk_tier="high",
    )
    return client_for(Role.REQUESTER)


def _upload(client, size: int, name: str = "scan.pdf"):
    upload = SimpleUploadedFile(name, b"%PDF" + b"0" * (size - 4), content_type="application/pdf")
    return client.post(API, {"title": "Scan", "file": upload}, format="multipart")


def test_a_file_above_the_generic_body_limit_but_within_evidence_max_bytes_is_accepted(
    requester, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * MIB
    settings.EVIDENCE_MAX_BYTES = 4 * MIB
    response = _upload(requester, 3 * MIB)
    assert response.status_code == 201, response.content[:300]
    assert Evidence.objects.get().size == 3 * MIB


def test_a_file_above_evidence_max_bytes_is_refused_and_nothing_is_stored(requester, settings):
    settings.EVIDENCE_MAX_BYTES = 2 * MIB
    response = _upload(requester, 3 * MIB)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert str(2 * MIB + 64 * 1024) in response.json()["detail"]
    # Just over the limit, within the multipart allowance: the service refuses it by field.
    near = _upload(requester, 2 * MIB + 10)
    assert near.status_code == 400
    assert near.json()["errors"][0]["pointer"] == "#/file"
    assert not Evidence.objects.exists()


def test_other_endpoints_keep_the_generic_limit(requester, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * MIB
    settings.EVIDENCE_MAX_BYTES = 10 * MIB
    body = '{"slug": "big", "name": "' + "x" * (2 * MIB) + '"}'
    response = requester.post("/api/v1/systems/", body, content_type="application/json")
    assert response.status_code == 413
    assert str(1 * MIB) in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<script>alert(document.cookie)</script>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ],
)
def test_html_and_svg_evidence_download_as_opaque_attachments(requester, client_for, name, content):
    upload = SimpleUploadedFile(name, content)
    created = requester.post(API, {"title": name, "file": upload}, format="multipart")
    assert created.status_code == 201, created.json()
    evidence = Evidence.objects.get()
    download = client_for(Role.VIEWER).get(f"{PAGE}evidence/{evidence.pk}")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == content


def test_a_pdf_keeps_its_type(requester, client_for):
    assert _upload(requester, 100).status_code == 201
    evidence = Evidence.objects.get()
    download = client_for(Role.VIEWER).get(f"{PAGE}evidence/{evidence.pk}")
    assert download["Content-Type"] == "application/pdf"
