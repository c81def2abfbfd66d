"""Runbook webhook steps go through the guarded outbound client: internal URLs are refused when
the step is saved, and a redirect is never followed with the signed body."""

import pytest
from django.core.exceptions import ValidationError

from governance.core.actor import Actor
from governance.incidents.models import StepExecution
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import runbook_start, runbook_step_add, runbook_step_perform
from tests.http_peer import Recorder

LOOPBACK = ["127.0.0.0/8", "::1/128", "localhost"]

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.django_db
def test_runbook_webhook_steps_refuse_internal_urls_and_never_follow_redirects(
    settings: pytest.FixtureRequest,
    system: object,
    incident: object,
    commander: object,
    receiver: str,
    django_capture_on_commit_callbacks: object,
    eager_celery: object,
) -> None:
    actor = Actor.for_user(commander)
    runbook = runbook_create_from_template(
        actor=actor, system=system, template="route-to-human", slug="route"
    )
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as caught:
        runbook_step_add(
            actor=actor,
            runbook=runbook,
            title="Page the vendor",
            action="webhook",
            webhook_url="http://169.254.169.254/latest/meta-data/",
            webhook_secret=SECRET,
        )
    assert "internal address" in str(caught.value.message_dict["webhook_url"])
    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    runbook_step_add(
        actor=actor,
        runbook=runbook,
        title="Page the vendor",
        action="webhook",
        webhook_url=f"{receiver}/redirect",
        webhook_secret=SECRET,
    )
    run = runbook_start(actor=actor, incident=incident, runbook=runbook)
    step = run.executions.order_by("step__position").last()
    with django_capture_on_commit_callbacks(execute=True):
        runbook_step_perform(actor=actor, execution=step)
    done = StepExecution.objects.get(pk=step.pk)
    assert done.status == "failed", done.outcome
    assert "HTTP 307" in done.outcome
    assert [hit[1] for hit in Recorder.hits] == ["/redirect"]  # the signed body was sent once
