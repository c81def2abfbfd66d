"""Kill switch rules: reasons, two people for SEV1/SEV2 releases, audit, timeline, events."""

import pytest
from django.core.exceptions import ValidationError

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import TimelineEntry
from governance.incidents.services import incident_set_status
from governance.incidents.timeline import IncidentClosed
from governance.runtime.models import KillSwitch, KillSwitchEvent
from governance.runtime.selectors import kill_switches_engaged_for
from governance.runtime.services import (
    SecondPersonRequired,
    kill_switch_engage,
    kill_switch_release,
)

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


def test_engaging_is_immediate_audited_timelined_and_evented(switch, incident, commander):
    before = KillSwitchEvent.objects.count()
    switch = kill_switch_engage(
        actor=Actor.for_user(commander),
        switch=switch,
        reason="leaks card numbers",
        incident=incident,
    )
    switch.refresh_from_db()
    assert switch.state == "engaged"
    assert switch.changed_by == "ines"
    assert switch.incident == incident
    assert switch.version == 2
    event = AuditEvent.objects.get(action="incidents.killswitch.engaged")
    assert event.reason == "leaks card numbers"
    assert event.before["state"] == "released"
    assert event.after["state"] == "engaged"
    assert event.actor_name == "ines"
    flip = KillSwitchEvent.objects.get()
    assert KillSwitchEvent.objects.count() == before + 1
    assert flip.payload["state"] == "engaged"
    assert flip.payload["incident"] == incident.ref
    entry = TimelineEntry.objects.get(incident=incident, kind="kill_switch")
    assert "ENGAGED" in entry.message
    assert entry.data["event_id"] == flip.pk


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_flip_without_reason_is_refused_audited_and_changes_nothing(switch, commander, reason):
    with pytest.raises(ValidationError):
        kill_switch_engage(actor=Actor.for_user(commander), switch=switch, reason=reason)
    switch.refresh_from_db()
    assert switch.state == "released"
    assert switch.version == 1
    assert not KillSwitchEvent.objects.exists()
    refused = AuditEvent.objects.get(action="incidents.killswitch.engage_refused")
    assert "needs a reason" in refused.after["refused"]
    assert refused.target_id == switch.key


def test_engaging_an_engaged_switch_is_a_conflict(switch, commander):
    kill_switch_engage(actor=Actor.for_user(commander), switch=switch, reason="stop")
    with pytest.raises(Conflict, match="already engaged"):
        kill_switch_engage(actor=Actor.for_user(commander), switch=switch, reason="again")
    assert KillSwitchEvent.objects.count() == 1
    assert "incidents.killswitch.engage_refused" in actions()


def test_release_of_a_low_severity_switch_takes_one_person(switch, make_incident, commander):
    incident = make_incident(severity="SEV3")
    kill_switch_engage(
        actor=Actor.for_user(commander), switch=switch, reason="drift", incident=incident
    )
    switch = kill_switch_release(actor=Actor.for_user(commander), switch=switch, reason="fixed")
    assert switch.state == "released"
    assert KillSwitchEvent.objects.filter(state="released").count() == 1
    assert TimelineEntry.objects.filter(incident=incident, kind="kill_switch").count() == 2


def test_release_tied_to_sev1_or_sev2_needs_a_second_person(switch, incident, commander, approver):
    kill_switch_engage(
        actor=Actor.for_user(commander), switch=switch, reason="leak", incident=incident
    )
    switch = kill_switch_release(
        actor=Actor.for_user(commander), switch=switch, reason="patched the tool"
    )
    assert switch.state == "engaged"
    assert switch.release_pending
    assert switch.release_requested_by == "ines"
    assert "incidents.killswitch.release_requested" in actions()
    # The same person cannot confirm their own request.
    with pytest.raises(SecondPersonRequired):
        kill_switch_release(actor=Actor.for_user(commander), switch=switch, reason="confirm")
    assert KillSwitch.objects.get().state == "engaged"
    assert "incidents.killswitch.release_refused" in actions()
    # Nor can a machine token be the second person.
    token_actor = Actor(kind="token", id="abc", name="ci-bot")
    with pytest.raises(SecondPersonRequired, match="person"):
        kill_switch_release(actor=token_actor, switch=switch, reason="confirm")
    switch = kill_switch_release(
        actor=Actor.for_user(approver), switch=switch, reason="verified the patch"
    )
    assert switch.state == "released"
    assert not switch.release_pending
    released = AuditEvent.objects.get(action="incidents.killswitch.released")
    assert released.actor_name == "arjun"
    assert released.after["release_requested_by"] == "ines"
    timeline = list(
        TimelineEntry.objects.filter(incident=incident).values_list("message", flat=True)
    )
    assert any("second person must confirm" in m for m in timeline)
    assert any("released (requested by ines)" in m for m in timeline)


def test_engaging_for_a_closed_incident_is_refused(switch, incident, commander):
    incident_set_status(actor=Actor.for_user(commander), incident=incident, status="resolved")
    incident.refresh_from_db()
    with pytest.raises(IncidentClosed):
        kill_switch_engage(
            actor=Actor.for_user(commander), switch=switch, reason="late", incident=incident
        )
    assert KillSwitch.objects.get().state == "released"


def test_releasing_a_released_switch_is_a_conflict(switch, commander):
    with pytest.raises(Conflict, match="not engaged"):
        kill_switch_release(actor=Actor.for_user(commander), switch=switch, reason="x")
    assert "incidents.killswitch.release_refused" in actions()


def test_scope_needs_its_target(make_switch):
    with pytest.raises(ValidationError):
        make_switch("env-switch", scope="environment")
    with pytest.raises(ValidationError):
        make_switch("tool-switch", scope="feature")
    with pytest.raises(ValidationError):
        make_switch("stream")


def test_policy_selector_returns_the_engaged_switches_that_apply(make_switch, commander, system):
    whole = make_switch("whole")
    prod = make_switch("prod-only", scope="environment", environment="production")
    staging = make_switch("staging-only", scope="environment", environment="staging")
    tool = make_switch("refund-tool", scope="feature", feature="refund_lookup")
    make_switch("never-engaged")
    for s in (whole, prod, staging, tool):
        kill_switch_engage(actor=Actor.for_user(commander), switch=s, reason=f"stop {s.key}")
    found = kill_switches_engaged_for(system=system, environment="production")
    assert [d["key"] for d in found] == ["prod-only", "refund-tool", "whole"]
    tool_entry = next(d for d in found if d["key"] == "refund-tool")
    assert tool_entry == {
        "key": "refund-tool",
        "scope": "feature",
        "environment": None,
        "feature": "refund_lookup",
        "reason": "stop refund-tool",
        "engaged_at": tool_entry["engaged_at"],
        "engaged_by": "ines",
    }
    assert tool_entry["engaged_at"].endswith("Z")
    assert [d["key"] for d in kill_switches_engaged_for(system=system.slug, environment=None)] == [
        "refund-tool",
        "whole",
    ]
    kill_switch_release(actor=Actor.for_user(commander), switch=whole, reason="ok")
    assert "whole" not in [
        d["key"] for d in kill_switches_engaged_for(system=system, environment="staging")
    ]
