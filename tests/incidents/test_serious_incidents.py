"""Serious incidents (EU AI Act Art. 73): marking one on a high-risk system starts the clock the
Article sets; the submission is recorded (who, when, reference), late ones flagged; the
incident page, the commander's dashboard and the authority report show it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.controls.aiact import Answers
from governance.controls.classifications import ai_act_classify
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import SeriousIncidentReport, TimelineEntry
from governance.incidents.serious import (
    clock_text,
    serious_incident_mark,
    serious_incident_report_submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def high_risk(system):
    call_command("load_catalog", verbosity=0)
    ai_act_classify(
        actor=Actor.system("tests"),
        system=system,
        answers=Answers(annex_iii_area="5a", role="provider"),
        reasons="Decides eligibility for public benefits",
    )
    return system


@pytest.mark.parametrize(("kind", "days"), [("general", 15), ("death", 10), ("widespread", 2)])
def test_marking_starts_the_clock_the_article_sets(high_risk, incident, commander, kind, days):
    aware = timezone.now() - timedelta(hours=3)
    report = serious_incident_mark(
        actor=Actor.for_user(commander),
        incident=incident,
        system=high_risk,
        kind=kind,
        aware_at=aware,
        reason="Benefits wrongly refused to 300 people",
    )
    assert report.deadline_at == aware + timedelta(days=days)
    event = AuditEvent.objects.get(action="incidents.serious.marked")
    assert event.target_id == incident.ref and event.after["kind"] == kind
    entry = TimelineEntry.objects.get(incident=incident, kind="serious")
    assert report.deadline_at.strftime("%Y-%m-%d %H:%M") in entry.message


def test_only_high_risk_systems_and_only_once(system, incident, commander):
    actor = Actor.for_user(commander)
    now = timezone.now()
    with pytest.raises(ValidationError) as caught:
        serious_incident_mark(
            actor=actor, incident=incident, system=system, kind="general", aware_at=now, reason="x"
        )
    assert "high-risk" in str(caught.value.message_dict["system"])
    call_command("load_catalog", verbosity=0)
    ai_act_classify(
        actor=actor,
        system=system,
        answers=Answers(annex_iii_area="5a", role="provider"),
        reasons="benefits",
    )
    for bad in (
        {"kind": "minor"},
        {"aware_at": now + timedelta(days=1)},
        {"reason": " "},
    ):
        fields = {"kind": "general", "aware_at": now, "reason": "harm", **bad}
        with pytest.raises(ValidationError):
            serious_incident_mark(actor=actor, incident=incident, system=system, **fields)
    serious_incident_mark(
        actor=actor, incident=incident, system=system, kind="general", aware_at=now, reason="harm"
    )
    with pytest.raises(Conflict):
        serious_incident_mark(
            actor=actor, incident=incident, system=system, kind="death", aware_at=now, reason="x"
        )
    assert SeriousIncidentReport.objects.count() == 1
    assert AuditEvent.objects.filter(action="incidents.serious.marked").count() == 1


def test_the_clock_reads_time_left_and_overdue():
    now = timezone.now()
    assert clock_text(now + timedelta(days=8, hours=23, minutes=5), now) == "8 days 23 h left"
    assert clock_text(now + timedelta(hours=5, minutes=30), now) == "5 h 30 min left"
    assert clock_text(now - timedelta(days=1, hours=2), now) == "overdue by 1 day 2 h"


def test_a_late_submission_is_recorded_and_flagged(high_risk, incident, commander):
    actor = Actor.for_user(commander)
    report = serious_incident_mark(
        actor=actor,
        incident=incident,
        system=high_risk,
        kind="widespread",
        aware_at=timezone.now() - timedelta(days=3),
        reason="Outage of the benefits service nationwide",
    )
    with pytest.raises(ValidationError):
        serious_incident_report_submit(actor=actor, report=report, authority="", reference="")
    submitted = serious_incident_report_submit(
        actor=actor, report=report, authority="Bundesnetzagentur", reference="MSA-2026-0042"
    )
    assert submitted.late is True
    event = AuditEvent.objects.get(action="incidents.serious.reported")
    assert event.after["late"] is True and event.after["reference"] == "MSA-2026-0042"
    assert event.actor_name == "ines"
    with pytest.raises(Conflict):
        serious_incident_report_submit(
            actor=actor, report=report, authority="again", reference="MSA-2"
        )
    assert "LATE" in TimelineEntry.objects.filter(kind="serious").last().message


def test_the_incident_page_and_dashboard_show_the_time_left(high_risk, incident, commander, client):
    serious_incident_mark(
        actor=Actor.for_user(commander),
        incident=incident,
        system=high_risk,
        kind="death",
        aware_at=timezone.now() - timedelta(days=1),
        reason="A patient died after a wrong triage",
    )
    client.force_login(commander)
    page = client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Serious incident (EU AI Act Art. 73)" in page
    assert "Death of a person" in page
    assert "8 days 23 h left" in page or "9 days 0 h left" in page  # 10 days minus 1
    dashboard = client.get("/dashboard/").content.decode()
    assert "Serious incident reports due" in dashboard and incident.ref in dashboard
    assert "days" in dashboard and "h left" in dashboard


def test_the_commander_marks_and_records_from_the_incident_page(
    high_risk, incident, commander, client
):
    client.force_login(commander)
    page = client.get(f"/incidents/{incident.number}/").content.decode()
    assert "Mark as a serious incident" in page
    response = client.post(
        f"/incidents/{incident.number}/serious",
        {
            "system": high_risk.slug,
            "kind": "general",
            "aware_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "reason": "Refused benefits",
        },
    )
    assert response.status_code == 302
    assert SeriousIncidentReport.objects.get().kind == "general"
    client.post(
        f"/incidents/{incident.number}/serious/submission",
        {"authority": "MSA", "reference": "REF-1"},
    )
    assert SeriousIncidentReport.objects.get().reference == "REF-1"
