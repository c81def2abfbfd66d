"""Failed HTMX updates are never silent: invalid input comes back as a 422 fragment with the
error next to its field; any other failure is announced above the page."""

import re

import pytest
from playwright.sync_api import expect

from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create
from governance.policy.models import Decision
from governance.policy.services import policy_directory_load
from tests.ui.conftest import assert_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_htmx_forms_show_the_servers_errors(person, sign_in, live_server, viewport, shot):
    actor = Actor.system("tests")
    catalog_load(actor=actor)
    policy_directory_load(actor=actor)
    ada = person("ada", "admin")
    ai_system_create(actor=actor, slug="churn", name="Churn", owner=ada, risk_tier="low")
    page = sign_in("ada")

    # Try a decision with a version that does not exist: the error sits under the field.
    page.goto(f"{live_server.url}/policy/try/")
    page.select_option("#id_system", "churn")
    page.fill("#id_model_version", "9.9")
    page.select_option("#id_environment", "staging")
    with page.expect_response(re.compile(r"/policy/try/$")) as answer:
        page.click("button:has-text('Decide')")
    assert answer.value.status == 422
    field = page.locator(".field.has-error", has=page.locator("#id_model_version"))
    assert "Unknown model version '9.9'." in field.inner_text()
    assert "Nothing was decided" in page.inner_text("#try-result")
    assert page.input_value("#id_model_version") == "9.9"  # what was typed stays
    assert not Decision.objects.exists()
    assert_fits(page)
    shot("try-unknown-version")

    # The audit log with a bad date: the filter shows it, the results say why they are empty.
    page.goto(f"{live_server.url}/audit/")
    page.fill("#id_since", "yesterday")
    with page.expect_response(re.compile(r"/audit/\?")) as answer:
        page.click("#audit-filters button[type=submit]")
    assert answer.value.status == 422
    since = page.locator("#audit-filters .field.has-error", has=page.locator("#id_since"))
    assert "Enter a valid date/time." in since.inner_text()
    assert "the filters are invalid" in page.inner_text("#results")
    page.fill("#id_since", "2020-01-01T00:00:00Z")
    page.click("#audit-filters button[type=submit]")
    # A locator wait, not wait_for_function: its polling evaluates strings, which the CSP refuses.
    expect(page.locator("#audit-filters .has-error")).to_have_count(0)
    assert page.locator("table.events tbody tr").count() >= 1
    assert_fits(page)
    shot("audit-filter-fixed")

    # Any other failure (here a 503 from a proxy) is announced above the page.
    page.route(re.compile(r"/audit/\?"), lambda route: route.fulfill(status=503, body="down"))
    page.fill("#id_action", "accounts")
    page.click("#audit-filters button[type=submit]")
    alert = page.locator("#htmx-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text().startswith("Not updated (503)")
    page.problems.clear()  # the 503 was made on purpose
    shot("htmx-failure-announced")
