"""The incident commander finds a system's switch and stops it in two clicks, the confirmation
naming what stops; attaches a switch engaged outside the incident; and, asking for a
two-person release, sees that it waits for a second person and can take it back."""

import re

import pytest

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.incidents.models import SeverityLevel
from governance.incidents.services import incident_open
from governance.incidents.severity import severity_levels_ensure
from governance.inventory.services import ai_system_create
from governance.runtime.models import KillSwitch
from governance.runtime.services import kill_switch_create, kill_switch_engage
from tests.ui.conftest import assert_fits, nav_click

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_commander_stops_a_system_attaches_a_switch_and_waits_for_a_second_person(
    person, sign_in, live_server, viewport, shot
):
    severity_levels_ensure()
    actor = Actor.system("tests")
    ines = person("ines", "incident_commander")
    copilot = ai_system_create(
        actor=actor, slug="support-copilot", name="Support copilot", owner=ines, risk_tier="high"
    )
    fraud = ai_system_create(
        actor=actor, slug="fraud", name="Fraud detection", owner=ines, risk_tier="high"
    )
    kill_switch_create(
        actor=actor,
        key="copilot-prod",
        system=copilot,
        scope="environment",
        environment="production",
    )
    kill_switch_create(actor=actor, key="fraud-all", system=fraud, scope="system")
    paged = kill_switch_create(
        actor=actor, key="copilot-refunds", system=copilot, scope="feature", feature="refunds"
    )
    kill_switch_engage(actor=Actor.system("pager"), switch=paged, reason="error spike")
    incident = incident_open(
        actor=actor,
        title="Copilot leaks card numbers",
        severity=SeverityLevel.objects.get(code="SEV1"),
        systems=[copilot],
        commander=ines,
    )

    page = sign_in("ines")
    nav_click(page, "Kill switches")  # click one
    page.fill("#ks-search", "copilot")
    page.click("button:has-text('Search')")
    page.wait_for_url(re.compile(r"q=copilot"))
    assert page.locator(".ks-group h2").all_inner_texts()[0].startswith("Support copilot")
    assert page.locator("#ks-fraud-all").count() == 0
    assert_fits(page)
    shot("kill-switch-search")

    card = page.locator("#ks-copilot-prod")
    card.locator("input[name=reason]").fill("card numbers in answers")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    card.locator("button:has-text('Engage kill switch')").click()  # click two
    page.wait_for_selector("#ks-copilot-prod.ks-engaged")
    assert "This stops Support copilot: the production environment only." in asked[0]
    assert "assume: engaged" in asked[0]
    assert KillSwitch.objects.get(key="copilot-prod").state == "engaged"

    # The switch the pager engaged joins the incident.
    refunds = page.locator("#ks-copilot-refunds")
    refunds.locator("select[name=incident]").select_option(str(incident.number))
    refunds.locator("button:has-text('Attach')").click()
    page.wait_for_selector(".message-success")
    assert KillSwitch.objects.get(key="copilot-refunds").incident_id == incident.pk
    assert AuditEvent.objects.filter(action="incidents.killswitch.attached").count() == 1

    # SEV1: releasing takes two people. The one who asked sees it waiting, and can cancel.
    refunds = page.locator("#ks-copilot-refunds")
    refunds.locator("input[name=reason]").fill("fix deployed")
    page.once("dialog", lambda dialog: dialog.accept())
    refunds.locator("button:has-text('Release')").click()
    page.wait_for_selector("#ks-copilot-refunds .waiting-second")
    refunds = page.locator("#ks-copilot-refunds")
    assert "waiting for a second person" in refunds.inner_text()
    assert refunds.locator("button:has-text('Confirm release')").count() == 0
    assert_fits(page)
    shot("kill-switch-waiting-second-person")
    page.once("dialog", lambda dialog: dialog.accept())
    refunds.locator("button:has-text('Cancel my release request')").click()
    page.wait_for_selector(".message-success")
    switch = KillSwitch.objects.get(key="copilot-refunds")
    assert switch.state == "engaged" and not switch.release_pending
    assert AuditEvent.objects.filter(action="incidents.killswitch.release_cancelled").count() == 1

    # The system page links its switches and incidents.
    page.goto(f"{live_server.url}/systems/support-copilot/")
    assert "copilot-prod" in page.inner_text("#system-switches")
    assert incident.ref in page.inner_text("#system-incidents")
    assert_fits(page)
    shot("system-switches-incidents")
