"""An incident commander opens an incident, engages a kill switch with a reason, sees it ENGAGED
and finds it on the timeline."""

import re

import pytest

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.severity import severity_levels_ensure
from governance.inventory.services import ai_system_create
from governance.runtime.models import KillSwitch
from governance.runtime.services import kill_switch_create, kill_switch_engage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_commander_opens_an_incident_and_engages_a_kill_switch(person, sign_in, live_server, shot):
    severity_levels_ensure()
    ines = person("ines", "incident_commander")
    system = ai_system_create(
        actor=Actor.system("tests"),
        slug="support-copilot",
        name="Support copilot",
        owner=ines,
        risk_tier="high",
    )
    switch = kill_switch_create(
        actor=Actor.system("tests"),
        key="copilot-refund-tool",
        system=system,
        scope="feature",
        feature="refund_lookup",
    )
    runbook_create_from_template(
        actor=Actor.system("tests"),
        system=system,
        template="disable-tool",
        slug="copilot-disable-refunds",
        kill_switch=switch,
    )
    page = sign_in("ines")
    page.click("nav >> text=Incidents")
    page.wait_for_url(re.compile(r"/incidents/$"))
    shot("incident-board-empty")
    page.click("text=Open an incident")
    page.fill("#id_title", "Copilot quotes card numbers from refunds")
    page.check("input[name=severity][value=SEV2]")
    assert page.locator(".severity-option", has_text="SEV1").locator(".criteria").count() == 1
    page.check("input[name=systems][value=support-copilot]")
    shot("incident-open-form")
    page.click("button:has-text('Open incident')")
    page.wait_for_url(re.compile(r"/incidents/\d+/$"))
    card = page.locator("#ks-copilot-refund-tool")
    assert card.locator(".ks-state").inner_text() == "released"
    # No reason: the browser refuses to send the form.
    card.locator("button:has-text('Engage kill switch')").click()
    assert KillSwitch.objects.get().state == "released"
    card.locator("input[name=reason]").fill("refund tool leaks card numbers")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    card.locator("button:has-text('Engage kill switch')").click()
    page.wait_for_selector(".message-success")
    card = page.locator("#ks-copilot-refund-tool")
    assert card.locator(".ks-state").inner_text() == "ENGAGED"
    assert "ks-engaged" in card.get_attribute("class")
    assert "the feature refund_lookup only" in asked[0]
    timeline = page.locator("#timeline").inner_text()
    assert "Kill switch copilot-refund-tool ENGAGED: refund tool leaks card numbers" in timeline
    shot("incident-switch-engaged")
    assert KillSwitch.objects.get().state == "engaged"
    # Follow the runbook: a manual step is ticked with its outcome.
    page.click("button:has-text('Start runbook')")
    page.wait_for_selector(".checklist .step")
    step = page.locator(".checklist .step[data-step='2']")
    step.locator("input[name=outcome]").fill("47 refund calls reviewed, 3 reversed")
    step.locator("button:has-text('Mark done')").click()
    page.wait_for_selector(".checklist .step-done[data-step='2']")
    assert "47 refund calls reviewed" in page.locator("#timeline").inner_text()
    shot("incident-runbook")
    assert AuditEvent.objects.filter(action="incidents.killswitch.engaged").count() == 1
    # The panel shows the state big and red, and follows flips made elsewhere without a reload.
    other = kill_switch_create(
        actor=Actor.system("tests"), key="copilot-all", system=system, scope="system"
    )
    page.click("nav >> text=Kill switches")
    page.wait_for_selector("#ks-copilot-refund-tool.ks-engaged")
    page.wait_for_selector("#ks-copilot-all.ks-released")
    kill_switch_engage(actor=Actor.system("pager"), switch=other, reason="error spike")
    page.wait_for_selector("#ks-copilot-all.ks-engaged", timeout=6000)
    assert page.locator("#ks-copilot-all .ks-state").inner_text() == "ENGAGED"
    shot("kill-switch-panel")
    page.click("nav >> text=Incidents")
    page.wait_for_selector(".ks-banner")
    shot("incident-board")
