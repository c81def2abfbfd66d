"""Incidents, severity levels and runbooks: state rules, timeline, audit."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ValidationError

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import Incident, SeverityLevel, StepExecution, TimelineEntry
from governance.incidents.runbook_templates import TEMPLATES, runbook_create_from_template
from governance.incidents.runbooks import runbook_start, runbook_step_add, runbook_step_perform
from governance.incidents.selectors import incident_runs
from governance.incidents.services import (
    incident_add_note,
    incident_record_postmortem,
    incident_set_severity,
    incident_set_status,
    severity_level_update,
)
from governance.incidents.timeline import IncidentClosed
from governance.runtime.models import KillSwitch
from governance.webhooks.signatures import (
    SignatureInvalid,
    standard_webhooks_sign,
    standard_webhooks_verify,
)
from tests.conftest import SHARED_DIR

pytestmark = pytest.mark.django_db
VECTORS = SHARED_DIR / "samples" / "signatures" / "standard-webhooks.v1.vectors.json"
KNOWN_ANSWER = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "payload": '{"test": 2432232314}',
    "expected_signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def test_four_severity_levels_with_ai_criteria_exist():
    levels = list(SeverityLevel.objects.values_list("code", flat=True))
    assert levels == ["SEV1", "SEV2", "SEV3", "SEV4"]
    sev1 = SeverityLevel.objects.get(code="SEV1")
    assert sev1.harm and sev1.exposure and sev1.scale
    assert sev1.needs_second_person
    assert not SeverityLevel.objects.get(code="SEV3").needs_second_person


def test_admins_edit_severity_levels_with_a_reason(admin_user):
    level = SeverityLevel.objects.get(code="SEV3")
    with pytest.raises(ValidationError):
        severity_level_update(actor=Actor.for_user(admin_user), level=level, reason="", name="X")
    assert SeverityLevel.objects.get(code="SEV3").name != "X"
    assert AuditEvent.objects.filter(action="incidents.severity.update_refused").count() == 1
    severity_level_update(
        actor=Actor.for_user(admin_user),
        level=level,
        reason="align with the risk committee",
        scale="One feature or under 1% of traffic.",
    )
    event = AuditEvent.objects.get(action="incidents.severity.updated")
    assert event.after["scale"] == "One feature or under 1% of traffic."
    assert event.reason == "align with the risk committee"


def test_opening_an_incident_numbers_it_and_starts_the_timeline(incident, make_incident):
    second = make_incident(title="Second")
    assert second.number == incident.number + 1
    assert incident.ref.startswith("INC-")
    assert TimelineEntry.objects.filter(incident=incident, kind="opened").count() == 1
    event = AuditEvent.objects.filter(action="incidents.incident.opened").first()
    assert event.after["systems"] == ["support-copilot"]


def test_an_incident_needs_an_affected_system(commander):
    from governance.incidents.services import incident_open

    with pytest.raises(ValidationError):
        incident_open(
            actor=Actor.for_user(commander),
            title="x",
            severity=SeverityLevel.objects.get(code="SEV4"),
            systems=[],
            commander=commander,
        )


def test_status_flow_records_time_to_mitigate_and_postmortem(incident, commander):
    actor = Actor.for_user(commander)
    incident_set_status(actor=actor, incident=incident, status="identified", note="bad prompt")
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=incident.opened_at - timedelta(minutes=7)
    )
    incident = incident_set_status(actor=actor, incident=incident, status="mitigated")
    assert incident.time_to_mitigate >= timedelta(minutes=7)
    assert incident.time_to_mitigate_text.startswith("7 min")
    with pytest.raises(Conflict, match="Resolve"):
        incident_record_postmortem(
            actor=actor, incident=incident, cause="c", impact="i", actions="a"
        )
    incident = incident_set_status(actor=actor, incident=incident, status="resolved")
    with pytest.raises(ValidationError):
        incident_record_postmortem(actor=actor, incident=incident, cause="", impact="", actions="")
    incident = incident_record_postmortem(
        actor=actor,
        incident=incident,
        cause="Prompt v15 dropped the PII filter",
        impact="212 replies with card digits",
        actions="Prompt tests for PII",
    )
    assert incident.status == "postmortem"
    kinds = list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds == ["opened", "status", "status", "status", "postmortem"]
    assert AuditEvent.objects.filter(action="incidents.incident.postmortem_recorded").exists()
    assert AuditEvent.objects.filter(action="incidents.incident.postmortem_refused").count() == 2


def test_severity_change_and_notes_land_on_the_timeline(incident, commander):
    actor = Actor.for_user(commander)
    with pytest.raises(ValidationError):
        incident_set_severity(
            actor=actor,
            incident=incident,
            severity=SeverityLevel.objects.get(code="SEV1"),
            reason="",
        )
    incident_set_severity(
        actor=actor,
        incident=incident,
        severity=SeverityLevel.objects.get(code="SEV1"),
        reason="restricted data confirmed",
    )
    incident_add_note(actor=actor, incident=incident, message="Paged the data protection officer")
    messages = list(
        TimelineEntry.objects.filter(incident=incident).values_list("message", flat=True)
    )
    assert "Severity SEV2 → SEV1: restricted data confirmed" in messages
    assert "Paged the data protection officer" in messages


def test_every_starter_template_exists():
    assert set(TEMPLATES) == {
        "revert-prompt",
        "disable-tool",
        "swap-retriever",
        "route-to-human",
        "rollback-model",
    }


def test_manual_and_automated_steps_record_who_when_and_outcome(
    system, switch, version, incident, commander, django_capture_on_commit_callbacks, eager_celery
):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor,
        system=system,
        template="disable-tool",
        slug="disable-refunds",
        kill_switch=switch,
    )
    runbook_step_add(
        actor=actor, runbook=runbook, title="Roll back", action="rollback", model_version=version
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    executions = list(run.executions.order_by("step__position"))
    assert [e.status for e in executions] == ["pending"] * 5
    # Step 1 engages the switch: queued, then the (eager) Celery task records the result.
    with django_capture_on_commit_callbacks(execute=True):
        queued = runbook_step_perform(actor=actor, execution=executions[0])
    assert queued.status == "queued"
    done = StepExecution.objects.get(pk=executions[0].pk)
    assert done.status == "done", done.outcome
    assert done.performed_by == "ines"
    assert KillSwitch.objects.get().state == "engaged"
    assert KillSwitch.objects.get().incident == incident
    # A manual step.
    manual = runbook_step_perform(actor=actor, execution=executions[1], outcome="47 calls undone")
    assert manual.status == "done"
    assert manual.outcome == "47 calls undone"
    # Nothing is deployed through a release: the rollback fails, says so, and changes nothing
    # (tests/incidents/test_actions.py rolls a real release back).
    with django_capture_on_commit_callbacks(execute=True):
        runbook_step_perform(actor=actor, execution=executions[4])
    failed = StepExecution.objects.get(pk=executions[4].pk)
    assert failed.status == "failed"
    assert "nothing rolled back" in failed.outcome
    assert not TimelineEntry.objects.filter(incident=incident, kind="rollback").exists()
    assert not AuditEvent.objects.filter(action="incidents.rollback.performed").exists()
    timeline = TimelineEntry.objects.filter(incident=incident)
    assert timeline.filter(kind="kill_switch").count() == 1
    assert timeline.filter(kind="runbook").count() >= 4
    assert AuditEvent.objects.filter(action="incidents.runbook.step_done").count() == 2


def test_a_step_on_a_closed_incident_is_refused_and_audited(system, incident, commander):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="route-to-human", slug="route"
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    incident_set_status(actor=actor, incident=incident, status="resolved")
    execution = run.executions.first()
    with pytest.raises(IncidentClosed):
        runbook_step_perform(actor=actor, execution=execution)
    assert StepExecution.objects.get(pk=execution.pk).status == "pending"
    assert AuditEvent.objects.filter(action="incidents.runbook.step_refused").count() == 1
    with pytest.raises(IncidentClosed):
        runbook_start(actor=actor, incident=incident, runbook=runbook)


def test_step_actions_are_checked(system, commander, make_switch):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="route-to-human", slug="route"
    )
    with pytest.raises(ValidationError):
        runbook_step_add(actor=actor, runbook=runbook, title="x", action="engage_kill_switch")
    with pytest.raises(ValidationError):
        runbook_step_add(actor=actor, runbook=runbook, title="x", action="set_control")
    with pytest.raises(ValidationError):
        runbook_step_add(actor=actor, runbook=runbook, title="x", action="revert_prompt")
    with pytest.raises(ValidationError):
        runbook_step_add(actor=actor, runbook=runbook, title="x", action="webhook")


@pytest.mark.needs_shared
def test_the_known_answer_is_the_published_vector():
    vector = json.loads(VECTORS.read_text())["vectors"][0]
    assert {k: vector[k] for k in KNOWN_ANSWER} == KNOWN_ANSWER


def test_runbook_webhooks_sign_with_the_standard_webhooks_known_answer():
    signature = standard_webhooks_sign(
        KNOWN_ANSWER["secret"],
        KNOWN_ANSWER["msg_id"],
        KNOWN_ANSWER["timestamp"],
        KNOWN_ANSWER["payload"].encode(),
    )
    assert signature == KNOWN_ANSWER["expected_signature"]
    headers = {
        "webhook-id": KNOWN_ANSWER["msg_id"],
        "webhook-timestamp": str(KNOWN_ANSWER["timestamp"]),
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    }
    with pytest.raises(SignatureInvalid):
        standard_webhooks_verify(
            KNOWN_ANSWER["secret"],
            headers,
            KNOWN_ANSWER["payload"].encode(),
            now=KNOWN_ANSWER["timestamp"],
        )
    for bad in ("", "whsec_"):
        with pytest.raises(SignatureInvalid):
            standard_webhooks_sign(bad, "m", 1, b"{}")


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_step_posts_a_signed_event(
    system, incident, commander, django_capture_on_commit_callbacks, eager_celery
):
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received = []
    try:
        actor = Actor.for_user(commander)
        runbook = runbook_create_from_template(
            actor=actor, system=system, template="route-to-human", slug="route"
        )
        step = runbook_step_add(
            actor=actor,
            runbook=runbook,
            title="Tell the status page",
            action="webhook",
            webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
            webhook_secret=KNOWN_ANSWER["secret"],
        )
        run = runbook_start(actor=actor, incident=incident, runbook=runbook)
        execution = run.executions.get(step=step)
        with django_capture_on_commit_callbacks(execute=True):
            runbook_step_perform(actor=actor, execution=execution)
    finally:
        server.shutdown()
    headers, body = _Receiver.received[0]
    standard_webhooks_verify(KNOWN_ANSWER["secret"], headers, body.encode())  # raises if bad
    assert json.loads(body)["data"]["incident"] == incident.ref
    execution.refresh_from_db()
    assert execution.status == "done"
    assert execution.result["status"] == 204
    assert TimelineEntry.objects.filter(incident=incident, kind="webhook").exists()


def test_a_failed_webhook_step_is_recorded_as_failed(
    system, incident, commander, django_capture_on_commit_callbacks, eager_celery
):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="route-to-human", slug="route"
    )
    step = runbook_step_add(
        actor=actor,
        runbook=runbook,
        title="Call",
        action="webhook",
        webhook_url="http://127.0.0.1:9/closed",
        webhook_secret=KNOWN_ANSWER["secret"],
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    execution = run.executions.get(step=step)
    with django_capture_on_commit_callbacks(execute=True):
        runbook_step_perform(actor=actor, execution=execution)
    execution.refresh_from_db()
    assert execution.status == "failed"
    assert "not delivered" in execution.outcome
    assert AuditEvent.objects.filter(action="incidents.runbook.step_failed").exists()
    assert incident_runs(incident=incident)[0].executions.get(step=step).status == "failed"
