"""The approver's view of what a release changes, and "Re-check now"."""

import pytest
from django.test import Client

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.inventory.services import dataset_create, model_version_register
from governance.policy.models import Decision
from governance.releases.approvals import release_approval_record
from governance.releases.comparison import release_comparison, release_latest_decision
from governance.releases.services import release_request_deploy, release_request_submit
from tests.releases.conftest import as_user, draft

pytestmark = pytest.mark.django_db


def _approve(cast, release, who):
    release.refresh_from_db()
    release_approval_record(
        actor=as_user(who),
        request=release,
        decision="approve",
        reason="checked",
        content_hash=release.content_hash,
    )


@pytest.fixture
def proposed(cast):
    """1.0 is deployed to staging; 2.0 changes data, artifact and regresses AUC."""
    first = release_request_submit(
        actor=as_user(cast.rita), request=draft(cast, environment="staging")
    )
    release_request_deploy(actor=as_user(cast.rita), request=first)
    claims = dataset_create(
        actor=Actor.system("tests"),
        slug="claims",
        name="Claims",
        source="s3://claims",
        owner=cast.rita,
        classification="confidential",
    )
    v2 = model_version_register(
        actor=Actor.system("tests"),
        system=cast.high,
        version="2.0",
        framework="sklearn",
        framework_version="1.5",
        artifact_format="safetensors",
        datasets=[claims],
        code_commit_sha="c" * 40,
        parameters={"max_depth": 8},
        evaluation=[
            {"metric": "auc", "value": 0.85, "threshold": 0.8},
            {"metric": "error_rate", "value": 0.05, "threshold": 0.04},
        ],
    )
    return release_request_submit(
        actor=as_user(cast.rita),
        request=draft(cast, version=v2, environment="staging", title="Ship 2.0"),
    )


def test_comparison_names_the_current_version_and_each_change(cast, proposed):
    glance = release_comparison(request=proposed)
    assert glance.current == cast.high_v and glance.proposed.version == "2.0"
    auc, error_rate = glance.metrics
    assert (auc.current, auc.proposed, auc.delta) == (0.91, 0.85, -0.06)
    assert auc.meets is True and auc.regressed is True and auc.better is False
    # error_rate is lower-is-better in the policy data: 0.05 misses a 0.04 bar.
    assert error_rate.lower_is_better and error_rate.meets is False
    assert error_rate.current is None and error_rate.delta is None
    assert glance.datasets_added == ["claims"] and glance.datasets_removed == ["crm"]
    changed = {c.label: (c.current, c.proposed) for c in glance.changes}
    assert changed["Artifact format"] == ("onnx", "safetensors")
    assert changed["Framework version"] == ("—", "1.5")
    assert "Framework" not in changed


def test_release_page_shows_the_glance(cast, proposed):
    client = Client()
    client.force_login(cast.anna)
    page = client.get(f"/releases/{proposed.public_id}/").content.decode()
    glance = page[page.index('id="at-a-glance"') :]
    glance = glance[: glance.index("</section>")]
    assert "1.0" in glance and "2.0" in glance
    assert "-0.06" in glance and "✕ regresses" in glance and "✕ below the bar" in glance
    assert "+ added" in glance and "claims" in glance and "removed" in glance
    assert "Policy denies" in glance  # the regression and the missed bar block it


def test_the_chip_sits_by_the_approve_button(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    client = Client()
    client.force_login(cast.anna)
    page = client.get(f"/releases/{release.public_id}/").content.decode()
    form = page[page.index('id="approval-form"') :]
    form = form[: form.index("</form>")]
    assert 'id="approve-chip"' in form and form.index("approve-chip") < form.index("Approve")


def test_recheck_decides_again_with_the_approvals_so_far_and_is_audited(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    at_submit = release.submit_decision
    assert "approvals.insufficient" in {v["code"] for v in at_submit.denials}
    _approve(cast, release, cast.anna)
    _approve(cast, release, cast.bert)
    client = Client()
    client.force_login(cast.anna)
    response = client.post(f"/releases/{release.public_id}/recheck", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="at-a-glance"' in response.content.decode()
    latest = release_latest_decision(request=release)
    assert latest != at_submit
    assert "approvals.insufficient" not in {v["code"] for v in latest.denials}
    assert Decision.objects.count() == 2
    event = AuditEvent.objects.get(action="releases.request.rechecked")
    assert event.actor_name == "anna"
    assert event.after["decision_id"] == str(latest.decision_id)
    assert "approvals.insufficient" not in event.after["denials"]


def test_recheck_refuses_a_draft_and_roles_without_policy_check(cast, make_user):
    release = draft(cast)
    client = Client()
    client.force_login(cast.anna)
    client.post(f"/releases/{release.public_id}/recheck")
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="releases.request.rechecked").exists()
    for role in ("viewer", "auditor", "incident_commander"):
        other = Client()
        other.force_login(make_user(role))
        assert other.post(f"/releases/{release.public_id}/recheck").status_code == 403


def test_dashboard_queue_shows_the_policy_result_and_time_left(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    client = Client()
    client.force_login(cast.anna)
    page = client.get("/dashboard/").content.decode()
    queue = page[page.index('id="dash-queue"') :]
    queue = queue[: queue.index("</section>")]
    assert release.title in queue
    assert "Policy" in queue and "checked" in queue
    assert "until " in queue  # submitted + RELEASE_APPROVAL_TTL_HOURS
    mine = Client()
    mine.force_login(cast.rita)
    rita_page = mine.get("/dashboard/").content.decode()
    assert release.title in rita_page[rita_page.index('id="dash-mine"') :]
