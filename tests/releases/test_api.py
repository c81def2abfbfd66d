"""The release API: every UI action, problem+json refusals (audited), Idempotency-Key."""

import pytest
from rest_framework.test import APIClient

from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.releases.models import Approval, ReleaseRequest, ReleaseState

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    c = APIClient()
    c.force_login(user)
    return c


@pytest.fixture
def submitted(cast):
    rita = client(cast.rita)
    created = rita.post(
        "/api/v1/releases/",
        {
            "system": "high-sys",
            "model_version": "1.0",
            "environment": "production",
            "title": "Ship 1.0",
            "change_summary": "Retrained on Q2.",
            "justification": "Better AUC.",
            "evaluation_links": ["https://mlflow.example/runs/42"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    rid = created.json()["id"]
    answer = rita.post(f"/api/v1/releases/{rid}/submit", format="json")
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "submitted" and body["required_approvals"] == 2
    assert body["submit_decision"]["allow"] is False
    return rid, body["content_hash"]


def test_approvals_through_the_api_with_the_reviewed_hash(cast, submitted):
    rid, digest = submitted
    url = f"/api/v1/releases/{rid}/approvals"
    for user in (cast.anna, cast.bert):
        answer = client(user).post(
            url, {"decision": "approve", "reason": "ok", "content_hash": digest}, format="json"
        )
        assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["state"] == "approved" and body["valid_approvals"] == 2
    assert [a["approver"] for a in body["approvals"]] == ["anna", "bert"]
    assert "releases.request.approved" in [e["action"] for e in body["timeline"]]
    listed = client(cast.anna).get("/api/v1/releases/?state=approved").json()
    assert listed["count"] == 1


def test_refusals_are_problem_json_change_nothing_and_are_audited(cast, submitted):
    rid, digest = submitted
    url = f"/api/v1/releases/{rid}/approvals"
    own = client(cast.rita).post(
        url, {"decision": "approve", "reason": "mine", "content_hash": digest}, format="json"
    )
    assert own.status_code == 403  # the requester lacks the approver role at all
    stale = client(cast.anna).post(
        url,
        {"decision": "approve", "reason": "ok", "content_hash": "0" * 64},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert stale.status_code == 409
    assert stale["Content-Type"] == "application/problem+json"
    assert stale.json()["errors"][0]["pointer"] == "#/content_hash"
    replay = client(cast.anna).post(
        url,
        {"decision": "approve", "reason": "ok", "content_hash": "0" * 64},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert replay.status_code == 409 and replay["Idempotent-Replayed"] == "true"
    # The refusal was audited once, even though the request ran under an Idempotency-Key.
    assert AuditEvent.objects.filter(action="releases.approval.refused").count() == 1
    no_reason = client(cast.anna).post(
        url, {"decision": "approve", "reason": "", "content_hash": digest}, format="json"
    )
    assert no_reason.status_code == 400
    assert not Approval.objects.exists()
    illegal = client(cast.rita).post(f"/api/v1/releases/{rid}/deploy", {}, format="json")
    assert illegal.status_code == 409
    assert ReleaseRequest.objects.get().state == ReleaseState.SUBMITTED


def test_a_double_click_with_one_key_records_one_approval(cast, submitted):
    rid, digest = submitted
    anna = client(cast.anna)
    body = {"decision": "approve", "reason": "ok", "content_hash": digest}
    first = anna.post(
        f"/api/v1/releases/{rid}/approvals", body, format="json", HTTP_IDEMPOTENCY_KEY="click"
    )
    second = anna.post(
        f"/api/v1/releases/{rid}/approvals", body, format="json", HTTP_IDEMPOTENCY_KEY="click"
    )
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Approval.objects.count() == 1
    again = anna.post(f"/api/v1/releases/{rid}/approvals", body, format="json")
    assert again.status_code == 409


def test_edit_over_the_api_voids_approvals(cast, submitted):
    rid, digest = submitted
    client(cast.anna).post(
        f"/api/v1/releases/{rid}/approvals",
        {"decision": "approve", "reason": "ok", "content_hash": digest},
        format="json",
    )
    edited = client(cast.rita).patch(
        f"/api/v1/releases/{rid}", {"justification": "Even better AUC."}, format="json"
    )
    assert edited.status_code == 200
    body = edited.json()
    assert body["content_hash"] != digest and body["valid_approvals"] == 0
    assert body["approvals"][0]["voided_at"] is not None


def test_a_ci_token_marks_deployed_and_rolls_back(cast, make_token):
    from governance.releases.approvals import release_approval_record
    from governance.releases.services import release_request_submit
    from tests.releases.conftest import as_user, draft

    release = release_request_submit(
        actor=as_user(cast.rita), request=draft(cast, system=cast.medium, version=cast.medium_v)
    )
    release_approval_record(
        actor=as_user(cast.anna),
        request=release,
        decision="approve",
        reason="ok",
        content_hash=release.content_hash,
    )
    _, secret = make_token([Perm.RELEASES_DEPLOY, Perm.RELEASES_VIEW])
    ci = APIClient()
    ci.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    deployed = ci.post(f"/api/v1/releases/{release.public_id}/deploy", {}, format="json")
    assert deployed.status_code == 200, deployed.json()
    assert deployed.json()["deploy_decision"]["allow"] is True
    rolled = ci.post(f"/api/v1/releases/{release.public_id}/rollback", {}, format="json")
    assert rolled.status_code == 400  # a rollback needs a reason
    rolled = ci.post(
        f"/api/v1/releases/{release.public_id}/rollback", {"reason": "p99 up"}, format="json"
    )
    assert rolled.json()["state"] == "rolled_back"
