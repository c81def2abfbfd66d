"""An admin maps deployment environments and follows GitHub deliveries, in a real browser."""

import re

import pytest

from governance.audit.models import AuditEvent
from governance.webhooks.models import EnvironmentMapping, InboundDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_maps_a_namespace_with_a_reason_and_removes_it(person, sign_in, live_server, shot):
    person("ada", "admin")
    page = sign_in("ada")
    page.click("nav >> text=Gates")
    page.wait_for_url(re.compile(r"/settings/environments/"))
    page.select_option("#id_source", "namespace")
    page.fill("#id_name", "ML-Prod")
    page.select_option("#id_environment", "production")
    page.check("#id_governed")
    page.click("form.stack button[type=submit]")  # no reason: refused by the browser
    assert not EnvironmentMapping.objects.exists()
    page.fill("#id_reason", "the ML platform's production namespace")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Mapped Kubernetes namespace ML-Prod")
    assert page.locator("table.mappings td strong", has_text="ML-Prod").count() == 1
    assert page.locator("table.mappings .pill", has_text="governed").count() == 1
    page.select_option("#id_source", "github")
    page.fill("#id_name", "Production")
    page.select_option("#id_environment", "production")
    page.fill("#id_reason", "GitHub's environment for prod")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("text=Mapped GitHub environment Production")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(f"environments-{width}")
    event = AuditEvent.objects.get(
        action="webhooks.environment_mapping.saved", target_id="namespace:ml-prod"
    )
    assert (event.actor_name, event.reason) == ("ada", "the ML platform's production namespace")
    page.set_viewport_size({"width": 1440, "height": 900})
    row = page.locator("table.mappings tr", has_text="ML-Prod")
    row.locator("input[name=reason]").fill("namespace retired")
    row.locator("button", has_text="Remove").click()
    page.wait_for_selector("text=Removed Kubernetes namespace ML-Prod")
    assert list(EnvironmentMapping.objects.values_list("name", flat=True)) == ["Production"]
    assert AuditEvent.objects.filter(
        action="webhooks.environment_mapping.deleted", reason="namespace retired"
    ).exists()


def test_admin_sees_github_delivery_states(person, sign_in, live_server, shot):
    person("ada", "admin")
    payload = {"environment": "production", "action": "requested"}
    InboundDelivery.objects.create(
        source="github",
        delivery_id="a1b2c3d4-0000-11ee-8c90-0242ac120002",
        event="deployment_protection_rule",
        payload=payload,
        status="pending",
        attempts=2,
        last_error="POST https://api.github.com/repos/o/r/actions/runs/7/"
        "deployment_protection_rule answered 503.",
    )
    InboundDelivery.objects.create(
        source="github",
        delivery_id="a1b2c3d4-0000-11ee-8c90-0242ac120001",
        event="deployment_protection_rule",
        payload=payload,
        status="approved",
        attempts=1,
        redeliveries=1,
        callback_status=204,
    )
    page = sign_in("ada")
    page.goto(f"{live_server.url}/settings/github/deliveries/")
    assert page.locator("td .pill", has_text="Pending retry").count() == 1
    assert page.locator("td .pill", has_text="Answered: approved").count() == 1
    assert page.locator("button", has_text="Retry").count() == 1  # answered ones have none
    assert page.locator("text=redelivered 1 time").count() == 1
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot(f"github-deliveries-{width}")
