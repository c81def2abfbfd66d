"""Runtime controls: typed values with constraints, every change audited, on the timeline and
in the event stream; bad input changes nothing."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.incidents.models import TimelineEntry
from governance.inventory.services import ai_system_archive
from governance.runtime.control_services import runtime_control_create, runtime_control_set
from governance.runtime.models import KillSwitchEvent, RuntimeControl
from governance.runtime.selectors import kill_switch_snapshot

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def test_a_prompt_control_takes_only_registered_prompt_versions(make_control, prompts):
    control = make_control()
    assert control.value_type == "string"
    with pytest.raises(ValidationError) as excinfo:
        runtime_control_set(actor=ACTOR, control=control, value="refunds-v99", reason="try")
    assert "not a registered prompt version" in str(excinfo.value)
    with pytest.raises(ValidationError):
        runtime_control_set(actor=ACTOR, control=control, value=7, reason="wrong type")
    control.refresh_from_db()
    assert (control.value, control.version) == ("refunds-v7", 1)
    assert not KillSwitchEvent.objects.exists()
    refused = AuditEvent.objects.filter(action="runtime.control.set_refused")
    assert refused.count() == 2


def test_create_refuses_unregistered_values_wrong_types_and_shared_keys(
    make_control, make_switch, prompts, system
):
    with pytest.raises(ValidationError):
        make_control(value="not-registered")
    with pytest.raises(ValidationError):
        make_control("copilot-human", kind="route_to_human", value="yes", safe_value=True)
    with pytest.raises(ValidationError):
        make_control("copilot-retriever", kind="retriever", value="a", safe_value="a")
    make_switch("copilot-tools")
    with pytest.raises(ValidationError):
        make_control("copilot-tools")
    with pytest.raises(ValidationError):
        make_control("stream")
    assert not RuntimeControl.objects.exists()


def test_a_control_of_an_archived_system_is_refused(make_control, prompts, system):
    ai_system_archive(actor=ACTOR, system=system, reason="retired")
    system.refresh_from_db()
    with pytest.raises(Conflict, match="archived"):
        make_control()
    assert not RuntimeControl.objects.exists()


def test_a_change_for_an_incident_is_audited_timelined_and_streamed(
    make_control, prompts, incident
):
    control = make_control()
    changed = runtime_control_set(
        actor=ACTOR, control=control, value="refunds-v6", reason="v7 leaks", incident=incident
    )
    assert (changed.value, changed.version, changed.incident_id) == ("refunds-v6", 2, incident.pk)
    event = AuditEvent.objects.get(action="runtime.control.set")
    assert (event.before["value"], event.after["value"], event.reason) == (
        "refunds-v7",
        "refunds-v6",
        "v7 leaks",
    )
    entry = TimelineEntry.objects.get(incident=incident, kind="control")
    assert "refunds-v7" in entry.message and "refunds-v6" in entry.message
    flip = KillSwitchEvent.objects.get()
    assert (flip.control_id, flip.switch_id, flip.payload["value"]) == (
        control.pk,
        None,
        "refunds-v6",
    )
    with pytest.raises(Conflict):
        runtime_control_set(actor=ACTOR, control=changed, value="refunds-v6", reason="again")
    with pytest.raises(ValidationError):
        runtime_control_set(actor=ACTOR, control=changed, value="refunds-v7", reason="  ")


def test_the_stream_snapshot_has_switches_and_controls(
    make_control, make_switch, prompts, admin_user
):
    make_switch("copilot-all")
    make_control(
        "copilot-retriever",
        kind="retriever",
        choices=["pgvector-2026-11", "bm25"],
        value="pgvector-2026-11",
        safe_value="bm25",
    )
    _, items = kill_switch_snapshot(principal=admin_user)
    assert [(i["key"], i.get("state"), i.get("value")) for i in items] == [
        ("copilot-all", "released", None),
        ("copilot-retriever", None, "pgvector-2026-11"),
    ]


def test_controls_api_reads_with_etag_and_sets_with_a_reason(make_token, make_control, prompts):
    make_control()
    _, read_secret = make_token([Perm.KILLSWITCHES_READ])
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {read_secret}")
    first = reader.get("/api/v1/runtime-controls/copilot-prompt")
    assert first.status_code == 200 and first.json()["value"] == "refunds-v7"
    assert (
        reader.get(
            "/api/v1/runtime-controls/copilot-prompt", HTTP_IF_NONE_MATCH=first["ETag"]
        ).status_code
        == 304
    )
    assert (
        reader.post(
            "/api/v1/runtime-controls/copilot-prompt/set",
            {"value": "refunds-v6", "reason": "x"},
            format="json",
        ).status_code
        == 403
    )
    _, flip_secret = make_token([Perm.KILLSWITCHES_FLIP])
    flipper = APIClient()
    flipper.credentials(HTTP_AUTHORIZATION=f"Bearer {flip_secret}")
    bad = flipper.post(
        "/api/v1/runtime-controls/copilot-prompt/set",
        {"value": "nope", "reason": "x"},
        format="json",
    )
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert (
        flipper.post(
            "/api/v1/runtime-controls/missing/set", {"value": "x", "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    ok = flipper.post(
        "/api/v1/runtime-controls/copilot-prompt/set",
        {"value": "refunds-v6", "reason": "v7 leaks"},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert (
        reader.get(
            "/api/v1/runtime-controls/copilot-prompt", HTTP_IF_NONE_MATCH=first["ETag"]
        ).status_code
        == 200
    )


def test_commanders_create_controls_over_the_api_and_viewers_cannot(client_for, system, prompts):
    body = {
        "key": "copilot-human",
        "system": system.slug,
        "kind": "route_to_human",
        "value": False,
        "safe_value": True,
    }
    assert (
        client_for(Role.VIEWER).post("/api/v1/runtime-controls/", body, format="json").status_code
        == 403
    )
    created = client_for(Role.INCIDENT_COMMANDER).post(
        "/api/v1/runtime-controls/", body, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["type"] == "boolean"
    assert AuditEvent.objects.filter(action="runtime.control.created").count() == 1
    again = client_for(Role.INCIDENT_COMMANDER).post(
        "/api/v1/runtime-controls/",
        {**body, "key": "copilot-human-2", "value": "no"},
        format="json",
    )
    assert again.status_code == 400
    assert RuntimeControl.objects.count() == 1


def test_number_and_object_controls_keep_their_type(make_control, system):
    limit = runtime_control_create(
        actor=ACTOR,
        key="copilot-max-tokens",
        system=system,
        kind="custom",
        value_type="number",
        value=800,
        safe_value=200,
    )
    with pytest.raises(ValidationError):
        runtime_control_set(actor=ACTOR, control=limit, value="900", reason="string")
    assert runtime_control_set(actor=ACTOR, control=limit, value=400, reason="cost").value == 400
    with pytest.raises(ValidationError):
        runtime_control_create(
            actor=ACTOR,
            key="copilot-cfg",
            system=system,
            kind="custom",
            value_type="object",
            value=[1],
            safe_value={},
        )
