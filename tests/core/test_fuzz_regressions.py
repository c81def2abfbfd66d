"""Crashes the fuzzer found (#11 item 5), one regression test each, through the public URLs.

Each answered 500 before its fix; each must now be a 4xx problem (or a normal answer) that
changes nothing.
"""

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.controls.models import Evidence
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def requester(client_for):
    return client_for(Role.REQUESTER)


@pytest.mark.parametrize("content_type", ["text/csv", "text/csv; charset=utf-8"])
def test_an_empty_body_on_the_csv_import_is_a_400_report_not_a_500(requester, content_type):
    events = AuditEvent.objects.count()
    response = requester.post("/api/v1/systems/import", data=b"", content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["errors"] == [
        {"row": 1, "field": "slug,name,owner,risk_tier", "message": "Missing column(s)."}
    ]
    assert body["created"] == []
    assert not AISystem.objects.exists()
    assert AuditEvent.objects.count() == events


def test_dry_run_takes_true_or_false_only(requester):
    response = requester.post(
        "/api/v1/systems/import?dry_run=maybe", data=b"slug\n", content_type="text/csv"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#/dry_run"


@pytest.mark.django_db(transaction=True)  # the stream closes its connection (PostgreSQL)
@pytest.mark.parametrize("raw", ["\u00b2", "\u0663", "99999999999999999999999"])
def test_a_non_ascii_or_huge_last_event_id_opens_the_stream_with_a_snapshot(
    make_token, settings, raw
):
    """'²'.isdigit() is true but int('²') raises; a huge number overflows the id column."""
    settings.KILL_SWITCH_STREAM_MAX_SECONDS = 1
    _token, secret = make_token([Perm.KILLSWITCHES_READ])
    client = APIClient()
    for how in ("query", "header"):
        if how == "query":
            response = client.get(
                f"/api/v1/kill-switches/stream?last_event_id={quote(raw)}",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )
        else:
            response = client.get(
                "/api/v1/kill-switches/stream",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
                HTTP_LAST_EVENT_ID=raw,
            )
        assert response.status_code == 200
        chunks = iter(response.streaming_content)
        assert next(chunks).decode().startswith("retry: ")
        # Not a resumable id: the stream starts over with the current states.
        assert "event: snapshot" in next(chunks).decode()
        response.close()


@pytest.mark.parametrize("object_id", ["\u00b2", "\u0663", "99999999999999999999999"])
def test_evidence_linking_a_non_ascii_audit_sequence_is_a_400(client_for, make_user, object_id):
    catalog_load(actor=Actor.system("tests"))
    ai_system_create(
        actor=Actor.system("tests"),
        slug="chatbot",
        name="Chatbot",
        owner=make_user(Role.REQUESTER, username="owner"),
        risk_tier="high",
    )
    approver = client_for(Role.APPROVER)
    response = approver.post(
        f"/api/v1/systems/chatbot/controls/{quote('GOVERN 1.1')}/evidence",
        {"title": "event", "object_type": "audit.event", "object_id": object_id},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert not Evidence.objects.exists()
