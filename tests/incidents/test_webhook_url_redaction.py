"""Runbook webhook URLs and secrets are not shown to viewers; query strings (tokens, often)
are redacted wherever a webhook URL is shown: pages, timelines, audit events."""

import pytest

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.redaction import url_redacted
from governance.incidents.models import TimelineEntry
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import runbook_start, runbook_step_add, runbook_step_perform

pytestmark = pytest.mark.django_db

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOOK = "https://hooks.example.com/services/T0/B0?token=xoxb-s3cret&channel=ops"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (HOOK, "https://hooks.example.com/services/T0/B0?[redacted]"),
        ("https://user:pw@example.com:8443/p#frag", "https://example.com:8443/p"),
        ("http://[::1]:9/x?a=1", "http://[::1]:9/x?[redacted]"),
        ("https://example.com/plain", "https://example.com/plain"),
        ("", ""),
    ],
)
def test_url_redacted_drops_query_credentials_and_fragment(url, shown):
    assert url_redacted(url) == shown


@pytest.fixture
def runbook(system, commander):
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="route-to-human", slug="route"
    )
    runbook_step_add(
        actor=actor,
        runbook=runbook,
        title="Tell the status page",
        action="webhook",
        webhook_url=HOOK,
        webhook_secret=SECRET,
    )
    return runbook


def test_viewers_see_neither_the_webhook_url_nor_the_secret(runbook, client_for):
    page = client_for(Role.VIEWER).get("/runbooks/route/").content.decode()
    assert "Tell the status page" in page
    assert "hooks.example.com" not in page
    assert SECRET not in page


def test_commanders_see_the_url_with_its_query_redacted_and_never_the_secret(runbook, client_for):
    page = client_for(Role.INCIDENT_COMMANDER).get("/runbooks/route/").content.decode()
    assert "https://hooks.example.com/services/T0/B0?[redacted]" in page
    assert "xoxb-s3cret" not in page
    assert SECRET not in page


def test_the_step_audit_event_stores_the_redacted_url(runbook):
    added = AuditEvent.objects.filter(action__contains="step").order_by("sequence").last()
    assert "xoxb-s3cret" not in str(added.after)
    assert "hooks.example.com" in str(added.after)


def test_the_timeline_shows_the_redacted_url(
    system, incident, commander, django_capture_on_commit_callbacks, eager_celery, settings
):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128", "localhost"]
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="route-to-human", slug="closed"
    )
    step = runbook_step_add(
        actor=actor,
        runbook=runbook,
        title="Call",
        action="webhook",
        webhook_url="http://127.0.0.1:9/closed?api_key=s3cret",
        webhook_secret=SECRET,
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    execution = run.executions.get(step=step)
    with django_capture_on_commit_callbacks(execute=True):
        runbook_step_perform(actor=actor, execution=execution)
    execution.refresh_from_db()
    messages = list(
        TimelineEntry.objects.filter(incident=incident, kind="webhook").values_list(
            "message", flat=True
        )
    )
    assert messages, "the webhook step leaves a timeline entry"
    assert all("s3cret" not in m for m in messages)
    assert any("http://127.0.0.1:9/closed?[redacted]" in m for m in messages)
    assert "s3cret" not in execution.outcome
