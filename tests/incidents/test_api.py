"""Incidents over the API."""

import pytest

from governance.accounts.models import Role

pytestmark = pytest.mark.django_db


def test_incidents_api_opens_lists_and_shows_the_timeline(client_for, system, commander):
    client = client_for(Role.INCIDENT_COMMANDER)
    response = client.post(
        "/api/v1/incidents/",
        {
            "title": "Copilot quotes card numbers",
            "severity": "SEV1",
            "systems": [system.slug],
            "commander": commander.username,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    ref = response.json()["ref"]
    assert response.json()["timeline"][0]["kind"] == "opened"
    listed = client.get("/api/v1/incidents/").json()
    assert [i["ref"] for i in listed["results"]] == [ref]
    number = ref.removeprefix("INC-")
    assert client.get(f"/api/v1/incidents/{number}").json()["severity"] == "SEV1"
    levels = client.get("/api/v1/severity-levels/").json()
    assert [lvl["code"] for lvl in levels] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    bad = client.post("/api/v1/incidents/", {"title": "x"}, format="json")
    assert bad.status_code == 400
