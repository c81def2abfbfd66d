"""The incident pages: forms go through the services; refusals show and are audited."""

import pytest
from django.test import Client

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.incidents.models import Runbook, SeverityLevel, StepExecution
from governance.runtime.models import KillSwitch

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(make_user) -> Client:
    client = Client()
    client.force_login(make_user(Role.INCIDENT_COMMANDER, username="oncall"))
    return client


def test_board_and_incident_page_render(web, incident, switch):
    board = web.get("/incidents/")
    assert board.status_code == 200
    assert incident.title in board.content.decode()
    page = web.get(f"/incidents/{incident.number}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'id="ks-{switch.key}"' in body
    assert "released" in body
    card = web.get(f"/kill-switches/{switch.key}/card?incident={incident.number}")
    assert card.status_code == 200
    assert 'hx-trigger="every 2s' in card.content.decode()


def test_flip_without_reason_in_the_ui_is_refused_shown_and_audited(web, incident, switch):
    response = web.post(
        f"/kill-switches/{switch.key}/flip",
        {
            "action": "engage",
            "reason": "",
            "incident": incident.number,
            "next": f"/incidents/{incident.number}/",
        },
        follow=True,
    )
    assert "needs a reason" in response.content.decode()
    assert "Nothing was changed" in response.content.decode()
    assert KillSwitch.objects.get().state == "released"
    assert AuditEvent.objects.filter(action="incidents.killswitch.engage_refused").count() == 1


def test_flip_from_the_incident_page_lands_on_its_timeline(web, incident, switch):
    response = web.post(
        f"/kill-switches/{switch.key}/flip",
        {
            "action": "engage",
            "reason": "stop the leak",
            "incident": incident.number,
            "next": f"/incidents/{incident.number}/",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/incidents/{incident.number}/"
    assert "Kill switch support-copilot ENGAGED: stop the leak" in response.content.decode()


def test_runbook_from_template_then_checklist_in_an_incident(web, incident, switch, system):
    created = web.post(
        "/runbooks/",
        {
            "system": system.slug,
            "template": "disable-tool",
            "slug": "disable-refunds",
            "kill_switch": switch.key,
        },
    )
    assert created.status_code == 302
    runbook = Runbook.objects.get()
    assert runbook.steps.count() == 4
    assert web.get(f"/runbooks/{runbook.slug}/").status_code == 200
    web.post(f"/incidents/{incident.number}/runbooks", {"runbook": runbook.slug})
    execution = StepExecution.objects.get(step__position=2)
    web.post(f"/incidents/{incident.number}/steps/{execution.pk}", {"outcome": "12 refunds undone"})
    execution.refresh_from_db()
    assert (execution.status, execution.outcome, execution.performed_by) == (
        "done",
        "12 refunds undone",
        "oncall",
    )
    page = web.get(f"/incidents/{incident.number}/").content.decode()
    assert "12 refunds undone" in page


def test_a_step_on_a_closed_incident_shows_an_error(web, incident, system):
    web.post("/runbooks/", {"system": system.slug, "template": "route-to-human", "slug": "rth"})
    web.post(f"/incidents/{incident.number}/runbooks", {"runbook": "rth"})
    web.post(f"/incidents/{incident.number}/status", {"status": "resolved"})
    execution = StepExecution.objects.first()
    response = web.post(f"/incidents/{incident.number}/steps/{execution.pk}", {}, follow=True)
    assert "runbook is closed" in response.content.decode()
    assert StepExecution.objects.get(pk=execution.pk).status == "pending"
    assert AuditEvent.objects.filter(action="incidents.runbook.step_refused").exists()


def test_admins_edit_severity_criteria_and_others_cannot(make_user):
    admin = Client()
    admin.force_login(make_user(Role.ADMIN))
    data = {
        "code": "SEV4",
        "SEV4-name": "Low",
        "SEV4-harm": "None at all.",
        "SEV4-exposure": "None.",
        "SEV4-scale": "One case.",
        "SEV4-response": "Backlog.",
        "SEV4-reason": "clarify",
    }
    assert admin.post("/settings/severity/", data).status_code == 302
    assert SeverityLevel.objects.get(code="SEV4").harm == "None at all."
    commander = Client()
    commander.force_login(make_user(Role.INCIDENT_COMMANDER))
    assert commander.post("/settings/severity/", data).status_code == 403
    assert "None at all." in commander.get("/settings/severity/").content.decode()


def test_commanders_create_kill_switches(web, system):
    response = web.post(
        "/kill-switches/",
        {
            "key": "copilot-prod",
            "system": system.slug,
            "scope": "environment",
            "environment": "production",
            "safe_state": "engaged",
        },
    )
    assert response.status_code == 302
    switch = KillSwitch.objects.get()
    assert (switch.scope, switch.environment, switch.state) == (
        "environment",
        "production",
        "released",
    )
    assert AuditEvent.objects.filter(action="incidents.killswitch.created").exists()


def test_list_pages_and_endpoints_take_a_constant_number_of_queries(
    web, make_switch, make_incident, django_assert_max_num_queries
):
    for n in range(6):
        make_switch(f"switch-{n}")
        make_incident(title=f"Incident {n}")
    with django_assert_max_num_queries(12):
        assert web.get("/incidents/").status_code == 200
    with django_assert_max_num_queries(10):
        assert web.get("/kill-switches/").status_code == 200
    with django_assert_max_num_queries(8):
        assert web.get("/api/v1/kill-switches/").status_code == 200
    with django_assert_max_num_queries(8):
        assert web.get("/api/v1/incidents/").status_code == 200
