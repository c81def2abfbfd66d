"""GET /api/v1/audit/events, the JSONL export, and the audit explorer page."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    specs = [
        ("alice", "inventory.system.created", "inventory.aisystem", "fraud"),
        ("bob", "inventory.system.updated", "inventory.aisystem", "fraud"),
        ("alice", "accounts.token.created", "accounts.apitoken", "t-1"),
    ]
    for name, action, target_type, target_id in specs:
        with transaction.atomic():
            audit_record(
                actor=Actor(kind="user", id=name, name=name),
                action=action,
                target=Target(target_type, target_id),
            )


@pytest.fixture
def auditor(client_for):
    return client_for(Role.AUDITOR)


def results(response):
    assert response.status_code == 200, response.content
    return [(e["sequence"], e["actor_name"], e["action"]) for e in response.json()["results"]]


def test_lists_newest_first_with_hashes(auditor, events):
    body = auditor.get("/api/v1/audit/events").json()
    assert [e["sequence"] for e in body["results"]] == [3, 2, 1]
    assert body["count"] == 3
    assert set(body["results"][0]) >= {"hash", "prev_hash", "occurred_at", "reason", "ip"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=alice", [3, 1]),
        ("action=inventory.", [2, 1]),
        ("target_type=accounts.apitoken", [3]),
        ("target_type=inventory.aisystem&target_id=fraud&actor=bob", [2]),
    ],
)
def test_filters(auditor, events, query, expected):
    assert [seq for seq, _, _ in results(auditor.get(f"/api/v1/audit/events?{query}"))] == expected


def test_time_range_filter(auditor, events):
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert results(auditor.get("/api/v1/audit/events", {"since": future})) == []
    assert len(results(auditor.get("/api/v1/audit/events", {"until": future}))) == 3


def test_bad_filter_is_a_field_error(auditor, events):
    response = auditor.get("/api/v1/audit/events?since=yesterday")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == "#/since"


def test_pagination(auditor, events):
    body = auditor.get("/api/v1/audit/events?page_size=2").json()
    assert len(body["results"]) == 2
    assert body["next"] is not None


def test_export_streams_a_verifiable_log_and_is_itself_audited(auditor, events, tmp_path, capsys):
    response = auditor.get("/api/v1/audit/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    last = json.loads(lines[-1])
    assert last["action"] == "audit.exported"
    assert last["sequence"] == len(lines) == 4
    path = tmp_path / "download.jsonl"
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    call_command("verify_audit", "--file", str(path))
    assert "4 events" in capsys.readouterr().out


def test_explorer_page_filters_and_htmx_partial(auditor, events):
    page = auditor.get("/audit/?actor=bob")
    assert page.status_code == 200
    html = page.content.decode()
    assert "inventory.system.updated" in html
    assert "accounts.token.created" not in html
    partial = auditor.get("/audit/?actor=alice", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert "accounts.token.created" in partial


def test_explorer_bad_filter_shows_the_error_and_no_rows(auditor, events):
    response = auditor.get("/audit/?since=not-a-date")
    assert response.status_code == 400
    assert "Enter a valid date/time." in response.content.decode()
    assert AuditEvent.objects.count() == 3


def test_explorer_htmx_bad_filter_answers_422_with_the_form_out_of_band(auditor, events):
    response = auditor.get("/audit/?since=not-a-date", HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="audit-filters"' in page and 'hx-swap-oob="true"' in page
    assert "Enter a valid date/time." in page
    assert "0 events" in page
