"""CSV and JSON exports of systems, control implementations, coverage and audit events."""

import csv
import hashlib
import io
import json

import pytest

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from tests.reports.conftest import EVIDENCE

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_systems_csv_and_json(client_for, governed_system):
    client = client_for(Role.VIEWER)
    response = client.get("/api/v1/exports/systems.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [(r["slug"], r["risk_tier"], r["owner"]) for r in rows] == [
        ("loan-scoring", "high", "olga")
    ]
    documents = json.loads(body(client.get("/api/v1/exports/systems.json")))
    assert documents[0]["slug"] == "loan-scoring"


def test_controls_export_lists_every_subcategory_with_evidence_hashes(client_for, governed_system):
    response = client_for(Role.AUDITOR).get("/api/v1/exports/controls.json?system=loan-scoring")
    rows = json.loads(body(response))
    assert len(rows) == 72
    govern = next(r for r in rows if r["subcategory"] == "GOVERN 1.1")
    assert govern["status"] == "implemented" and govern["owner"] == "olga"
    assert govern["evidence_sha256"] == hashlib.sha256(EVIDENCE).hexdigest()


def test_coverage_csv_has_total_and_functions(client_for, governed_system):
    rows = list(
        csv.DictReader(
            io.StringIO(body(client_for(Role.VIEWER).get("/api/v1/exports/coverage.csv")))
        )
    )
    assert [r["scope"] for r in rows] == ["total", "GOVERN", "MANAGE", "MAP", "MEASURE"]
    assert rows[0]["implemented"] == "1"


def test_audit_events_csv_is_filtered_and_audited(client_for, governed_system):
    client = client_for(Role.AUDITOR)
    response = client.get("/api/v1/exports/audit-events.csv?action=controls.evidence")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [r["action"] for r in rows] == ["controls.evidence.added"]
    assert AuditEvent.objects.filter(action="audit.exported").exists()
    assert client_for(Role.VIEWER).get("/api/v1/exports/audit-events.csv").status_code == 403
    assert client.get("/api/v1/exports/audit-events.csv?since=yesterday").status_code == 400


def test_unknown_format_or_system_is_404(client_for, governed_system):
    client = client_for(Role.ADMIN)
    assert client.get("/api/v1/exports/systems.xml").status_code == 404
    assert client.get("/api/v1/exports/controls.csv?system=nope").status_code == 404


def test_csv_cells_cannot_become_formulas(client_for, governed_system):
    from governance.inventory.models import AISystem

    AISystem.objects.filter(pk=governed_system.pk).update(name="=HYPERLINK(1)")
    rows = list(
        csv.DictReader(
            io.StringIO(body(client_for(Role.VIEWER).get("/api/v1/exports/systems.csv")))
        )
    )
    assert rows[0]["name"] == "'=HYPERLINK(1)"
