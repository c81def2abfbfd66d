"""Attaching a switch engaged outside an incident, and taking back a two-person release."""

import pytest
from django.test import Client

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import SeverityLevel, TimelineEntry
from governance.incidents.services import incident_open
from governance.inventory.services import ai_system_create
from governance.runtime.services import (
    kill_switch_attach_incident,
    kill_switch_create,
    kill_switch_engage,
    kill_switch_release,
    kill_switch_release_cancel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user):
    ines = make_user("incident_commander", username="ines")
    arjun = make_user("approver", username="arjun")
    actor = Actor.system("tests")
    system = ai_system_create(actor=actor, slug="bot", name="Bot", owner=ines, risk_tier="high")
    switch = kill_switch_create(actor=actor, key="bot-off", system=system, scope="system")
    incident = incident_open(
        actor=actor,
        title="Bot misbehaves",
        severity=SeverityLevel.objects.get(code="SEV1"),
        systems=[system],
        commander=ines,
    )
    return ines, arjun, switch, incident


def test_attaching_ties_the_switch_to_the_incident_and_its_two_person_release(world):
    ines, _arjun, switch, incident = world
    switch = kill_switch_engage(actor=Actor.system("pager"), switch=switch, reason="spike")
    version = switch.version
    switch = kill_switch_attach_incident(
        actor=Actor.for_user(ines), switch=switch, incident=incident
    )
    assert switch.incident == incident and switch.version == version + 1
    assert switch.representation["incident"] == incident.ref
    assert TimelineEntry.objects.filter(incident=incident, message__contains="attached").exists()
    assert AuditEvent.objects.get(action="incidents.killswitch.attached").actor_name == "ines"
    # Now SEV1 rules apply: the first release call only asks.
    switch = kill_switch_release(actor=Actor.for_user(ines), switch=switch, reason="fixed")
    assert switch.is_engaged and switch.release_pending


def test_attach_refuses_a_released_switch_and_an_already_attached_one(world):
    ines, _arjun, switch, incident = world
    me = Actor.for_user(ines)
    with pytest.raises(Conflict):
        kill_switch_attach_incident(actor=me, switch=switch, incident=incident)
    switch = kill_switch_engage(actor=me, switch=switch, reason="x", incident=incident)
    with pytest.raises(Conflict):
        kill_switch_attach_incident(actor=me, switch=switch, incident=incident)
    assert not AuditEvent.objects.filter(action="incidents.killswitch.attached").exists()


def test_only_the_person_who_asked_can_cancel_a_release_request(world):
    ines, arjun, switch, incident = world
    switch = kill_switch_engage(
        actor=Actor.for_user(ines), switch=switch, reason="x", incident=incident
    )
    switch = kill_switch_release(actor=Actor.for_user(ines), switch=switch, reason="fixed")
    with pytest.raises(Conflict):
        kill_switch_release_cancel(actor=Actor.for_user(arjun), switch=switch)
    switch = kill_switch_release_cancel(actor=Actor.for_user(ines), switch=switch)
    assert switch.is_engaged and not switch.release_pending
    assert switch.representation["release_pending"] is False
    event = AuditEvent.objects.get(action="incidents.killswitch.release_cancelled")
    assert event.actor_name == "ines"
    with pytest.raises(Conflict):
        kill_switch_release_cancel(actor=Actor.for_user(ines), switch=switch)


def test_the_requester_sees_waiting_not_confirm_and_the_other_sees_confirm(world):
    ines, arjun, switch, incident = world
    switch = kill_switch_engage(
        actor=Actor.for_user(ines), switch=switch, reason="x", incident=incident
    )
    kill_switch_release(actor=Actor.for_user(ines), switch=switch, reason="fixed")
    mine, theirs = Client(), Client()
    mine.force_login(ines)
    theirs.force_login(arjun)
    card = mine.get("/kill-switches/bot-off/card").content.decode()
    assert "waiting for a second person" in card and "Cancel my release request" in card
    assert "Confirm release" not in card
    other = theirs.get("/kill-switches/bot-off/card").content.decode()
    assert "Confirm release" in other and "Cancel my release request" not in other


def test_viewers_cannot_attach_or_cancel(world, make_user):
    _ines, _arjun, _switch, incident = world
    client = Client()
    client.force_login(make_user("viewer"))
    assert (
        client.post("/kill-switches/bot-off/attach", {"incident": incident.number}).status_code
        == 403
    )
    assert client.post("/kill-switches/bot-off/cancel-release").status_code == 403
