"""The dashboard shows each role its own work, with the action that work needs."""

import pytest
from django.test import Client

from governance.audit.models import AuditChainVerification
from governance.core.actor import Actor
from governance.incidents.models import SeverityLevel
from governance.incidents.services import incident_open
from governance.inventory.services import ai_system_create
from governance.runtime.services import kill_switch_create, kill_switch_engage

pytestmark = pytest.mark.django_db


def page_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/dashboard/").content.decode()


@pytest.fixture
def incident_world(make_user):
    actor = Actor.system("tests")
    ines = make_user("incident_commander", username="ines")
    system = ai_system_create(
        actor=actor, slug="copilot", name="Copilot", owner=ines, risk_tier="high"
    )
    for code, title in (("SEV3", "Slow answers"), ("SEV1", "Leaks customer data")):
        incident_open(
            actor=actor,
            title=title,
            severity=SeverityLevel.objects.get(code=code),
            systems=[system],
            commander=ines,
        )
    switch = kill_switch_create(actor=actor, key="copilot-off", system=system, scope="system")
    kill_switch_engage(actor=actor, switch=switch, reason="PII in answers")
    return ines


def test_commander_sees_incidents_by_severity_and_engaged_switches(incident_world):
    page = page_for(incident_world)
    incidents = page[page.index('id="dash-incidents"') :]
    assert incidents.index("Leaks customer data") < incidents.index("Slow answers")
    switches = page[page.index('id="dash-switches"') :]
    assert "copilot-off" in switches and "PII in answers" in switches
    assert "Release or inspect" in switches
    assert "NIST AI RMF subcategories" not in page  # no card that only shows a constant


def test_viewer_and_auditor_get_no_operations_panels(incident_world, make_user):
    for role in ("viewer", "auditor"):
        page = page_for(make_user(role))
        assert 'id="dash-incidents"' not in page and 'id="dash-queue"' not in page
        assert 'id="dash-mine"' not in page


def test_auditor_verifies_the_chain_from_the_dashboard(make_user):
    auditor = make_user("auditor")
    client = Client()
    client.force_login(auditor)
    assert "Verify now" in client.get("/dashboard/").content.decode()
    response = client.post("/audit/verify", {"next": "/dashboard/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"
    assert "Audit chain verified" in response.content.decode()
    assert AuditChainVerification.objects.get().ok


def test_verify_now_never_redirects_offsite(make_user):
    client = Client()
    client.force_login(make_user("auditor"))
    response = client.post("/audit/verify", {"next": "https://evil.example/"})
    assert response["Location"] == "/audit/"


def test_favicon_ico_points_anyone_at_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/favicon.svg")
