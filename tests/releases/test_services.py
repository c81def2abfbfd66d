"""The state machine, four eyes, voiding by edit, expiry, and what external checks see."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.policy.selectors import deployment_request_resolve, policy_version_active
from governance.policy.services import policy_data_update, policy_version_activate
from governance.releases.approvals import release_approval_record
from governance.releases.assignments import approver_assignment_create
from governance.releases.models import Approval, ApproverAssignment, ReleaseState
from governance.releases.selectors import required_approvals_for, waiting_for
from governance.releases.services import (
    NotAllowed,
    PolicyDenied,
    release_request_deploy,
    release_request_rollback,
    release_request_submit,
    release_request_update,
    release_request_withdraw,
)
from governance.releases.tasks import releases_expire_task
from tests.releases.conftest import as_user, draft

pytestmark = pytest.mark.django_db
S = ReleaseState


def approve(cast_user, release, decision="approve", reason="Looks right", **kw):
    release.refresh_from_db()
    return release_approval_record(
        actor=as_user(cast_user),
        request=release,
        decision=decision,
        reason=reason,
        content_hash=kw.pop("content_hash", release.content_hash),
        **kw,
    )


def refusals(action):
    return AuditEvent.objects.filter(action=action)


def test_two_independent_approvals_approve_a_high_risk_production_release(cast):
    release = draft(cast)
    assert release.state == S.DRAFT
    release = release_request_submit(actor=as_user(cast.rita), request=release)
    assert release.state == S.SUBMITTED
    assert release.required_approvals == 2
    assert not release.submit_decision.allow
    assert "approvals.insufficient" in {v["code"] for v in release.submit_decision.violations}
    assert [r.pk for r in waiting_for(user=cast.anna)] == [release.pk]
    assert waiting_for(user=cast.rita) == []

    approve(cast.anna, release, reason="Eval reviewed")
    release.refresh_from_db()
    assert release.state == S.SUBMITTED
    assert waiting_for(user=cast.anna) == []
    approve(cast.bert, release, reason="Risk accepted")
    release.refresh_from_db()
    assert release.state == S.APPROVED
    actions = list(
        AuditEvent.objects.filter(target_id=str(release.public_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "releases.request.created",
        "releases.request.submitted",
        "releases.approval.recorded",
        "releases.approval.recorded",
        "releases.request.approved",
    ]


def test_the_requester_can_never_approve_their_own_request_and_the_attempt_is_audited(cast):
    from governance.accounts.models import Role

    cast.rita.role = Role.ADMIN  # even an admin requester
    cast.rita.save()
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    with pytest.raises(NotAllowed, match="Four eyes"):
        approve(cast.rita, release)
    assert not Approval.objects.exists()
    refused = refusals("releases.approval.refused").get()
    assert refused.actor_name == "rita"
    assert "Four eyes" in refused.after["error"]
    assert refused.after["state"] == S.SUBMITTED


def test_a_reason_is_required_and_a_missing_one_changes_nothing(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    with pytest.raises(ValidationError):
        approve(cast.anna, release, reason="  ")
    assert not Approval.objects.exists()
    assert refusals("releases.approval.refused").count() == 1


def test_only_legal_transitions_exist(cast):
    release = draft(cast)
    with pytest.raises(Conflict, match="cannot become deployed"):
        release_request_deploy(actor=as_user(cast.rita), request=release)
    with pytest.raises(Conflict):
        release_request_rollback(actor=as_user(cast.rita), request=release, reason="oops")
    with pytest.raises(Conflict, match="only requests waiting"):
        approve(cast.anna, release)
    release.refresh_from_db()
    assert release.state == S.DRAFT
    assert refusals("releases.request.deploy.refused").count() == 1
    release_request_submit(actor=as_user(cast.rita), request=release)
    with pytest.raises(Conflict):
        release_request_submit(actor=as_user(cast.rita), request=release)  # double submit


def test_one_rejection_rejects_and_a_rejected_request_takes_no_more_decisions(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    approve(cast.anna, release)
    approve(cast.bert, release, decision="reject", reason="Bias eval missing")
    release.refresh_from_db()
    assert release.state == S.REJECTED
    with pytest.raises(Conflict):
        approve(cast.ada, release)
    with pytest.raises(Conflict):
        release_request_submit(actor=as_user(cast.rita), request=release)


def test_an_edit_voids_earlier_approvals_and_stale_hashes_are_refused(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    reviewed = release.content_hash
    approve(cast.anna, release)
    release = release_request_update(
        actor=as_user(cast.rita), request=release, justification="AUC up 4 points."
    )
    assert release.content_hash != reviewed
    old = Approval.objects.get(approver=cast.anna)
    assert old.voided_at is not None and "content" in old.void_reason
    with pytest.raises(Conflict, match="changed after you opened it"):
        approve(cast.bert, release, content_hash=reviewed)
    assert refusals("releases.approval.refused").get().after["content_hash"] == reviewed
    approve(cast.anna, release)  # reviews again
    approve(cast.bert, release)
    release.refresh_from_db()
    assert release.state == S.APPROVED
    # Editing an approved request sends it back to waiting, approvals voided.
    release = release_request_update(actor=as_user(cast.rita), request=release, title="Ship 1.0!")
    assert release.state == S.SUBMITTED
    assert Approval.objects.filter(voided_at__isnull=True).count() == 0


def test_only_the_requester_edits(cast):
    release = draft(cast)
    with pytest.raises(NotAllowed):
        release_request_update(actor=as_user(cast.anna), request=release, title="Mine now")


def test_changes_requested_then_resubmitted_starts_a_new_round(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    approve(cast.anna, release, decision="request_changes", reason="Link the fairness report")
    release.refresh_from_db()
    assert release.state == S.CHANGES_REQUESTED
    release = release_request_update(
        actor=as_user(cast.rita),
        request=release,
        evaluation_links=["https://mlflow.example/runs/42", "https://wiki.example/fairness"],
    )
    release = release_request_submit(actor=as_user(cast.rita), request=release)
    assert release.state == S.SUBMITTED
    approve(cast.anna, release)  # the earlier decision no longer blocks a new one


def test_approving_a_withdrawn_request_is_refused(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    with pytest.raises(ValidationError):
        release_request_withdraw(actor=as_user(cast.rita), request=release, reason="")
    release_request_withdraw(actor=as_user(cast.rita), request=release, reason="Wrong version")
    with pytest.raises(Conflict, match="withdrawn"):
        approve(cast.anna, release)
    assert refusals("releases.approval.refused").count() == 1


def test_no_approval_needed_and_policy_allows_approves_on_submit(cast):
    release = draft(cast, system=cast.low, version=cast.low_v)
    release = release_request_submit(actor=as_user(cast.rita), request=release)
    assert release.required_approvals == 0
    assert release.submit_decision.allow
    assert release.state == S.APPROVED


def test_deploy_takes_the_policy_again_and_a_deny_blocks_it(cast):
    good = release_request_submit(
        actor=as_user(cast.rita), request=draft(cast, system=cast.medium, version=cast.medium_v)
    )
    assert good.required_approvals == 1
    approve(cast.anna, good)
    good = release_request_deploy(actor=as_user(cast.rita), request=good)
    assert good.state == S.DEPLOYED
    assert good.deploy_decision.allow
    assert good.deploy_decision.input["approvals"] == [{"approver": "anna", "decision": "approve"}]
    release_request_rollback(actor=as_user(cast.rita), request=good, reason="Latency regression")
    good.refresh_from_db()
    assert good.state == S.ROLLED_BACK

    bad = release_request_submit(
        actor=as_user(cast.rita),
        request=draft(cast, system=cast.medium, version=cast.medium_pickle),
    )
    approve(cast.anna, bad)
    with pytest.raises(PolicyDenied) as denied:
        release_request_deploy(actor=as_user(cast.rita), request=bad)
    assert "pickle" in denied.value.detail
    bad.refresh_from_db()
    assert bad.state == S.APPROVED
    refused = refusals("releases.request.deploy.refused").get()
    assert refused.after["decision_id"] == str(denied.value.decision.decision_id)
    assert any(v["controls"] for v in refused.after["violations"])


def test_external_checks_see_the_live_approvals_of_the_approved_request(cast):
    def check():
        return deployment_request_resolve(
            system_slug="high-sys", version="1.0", environment="production", requester="ci-bot"
        ).approvals

    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    approve(cast.anna, release)
    assert check() == []  # not approved yet
    approve(cast.bert, release)
    assert sorted(a["approver"] for a in check()) == ["anna", "bert"]
    release_request_withdraw(actor=as_user(cast.rita), request=release, reason="Postponed")
    assert check() == []


def test_a_repeated_check_drops_each_approval_when_it_expires(cast, monkeypatch):
    def check():
        return [
            a["approver"]
            for a in deployment_request_resolve(
                system_slug="high-sys", version="1.0", environment="production", requester="ci"
            ).approvals
        ]

    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    approve(cast.anna, release)
    approve(cast.bert, release)
    assert check() == check() == ["anna", "bert"]  # the second from the process's cache
    first = Approval.objects.get(approver=cast.anna).expires_at
    assert first < Approval.objects.get(approver=cast.bert).expires_at
    monkeypatch.setattr(timezone, "now", lambda: first + timedelta(microseconds=1))
    assert check() == ["bert"]


def test_the_number_of_approvals_follows_the_active_policy_data(cast):
    active = policy_version_active()
    data = {**active.data, "approvals": {**active.data["approvals"]}}
    data["approvals"]["required_by_tier"] = {**data["approvals"]["required_by_tier"], "high": 3}
    version = policy_data_update(
        actor=Actor.system("tests"), base=active, data=data, note="Three for high"
    )
    policy_version_activate(actor=Actor.system("tests"), version=version, reason="Board")
    assert required_approvals_for(system=cast.high, environment="production") == 3
    assert required_approvals_for(system=cast.high, environment="staging") == 0


def test_assignments_limit_who_may_approve(cast):
    approver_assignment_create(
        actor=as_user(cast.ada), user=cast.bert, system=cast.high, environment="production"
    )
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    with pytest.raises(NotAllowed, match="not an assigned approver"):
        approve(cast.anna, release)
    approve(cast.bert, release)
    assert waiting_for(user=cast.anna) == []
    assert ApproverAssignment.objects.count() == 1


def test_break_glass_is_off_by_default_and_loud_when_on(cast, settings):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    with pytest.raises(NotAllowed, match="switched off"):
        approve(cast.ada, release, break_glass=True)
    settings.RELEASE_BREAK_GLASS_ENABLED = True
    with pytest.raises(NotAllowed, match="Only admins"):
        approve(cast.anna, release, break_glass=True)
    approve(cast.ada, release, reason="Sev1 fix, board informed", break_glass=True)
    release.refresh_from_db()
    assert release.state == S.APPROVED and release.break_glass
    event = AuditEvent.objects.get(action="releases.approval.break_glass")
    assert event.after["break_glass"] is True


def test_expiry_voids_old_approvals_and_expires_stale_requests(cast, settings):
    waiting = release_request_submit(actor=as_user(cast.rita), request=draft(cast, title="A"))
    approved = release_request_submit(
        actor=as_user(cast.rita),
        request=draft(cast, system=cast.medium, version=cast.medium_v, title="B"),
    )
    approve(cast.anna, approved)
    approved.refresh_from_db()
    assert approved.state == S.APPROVED
    later = timezone.now() + timedelta(hours=settings.RELEASE_APPROVAL_TTL_HOURS + 1)
    from governance.releases.expiry import releases_expire

    counts = releases_expire(now=later)
    assert counts == {"approvals": 1, "requests": 2}
    waiting.refresh_from_db()
    approved.refresh_from_db()
    assert waiting.state == S.EXPIRED and approved.state == S.EXPIRED
    assert "Expired" in Approval.objects.get().void_reason
    assert releases_expire_task.apply().get() == {"approvals": 0, "requests": 0}
    # An expired request may be submitted again.
    release_request_submit(actor=as_user(cast.rita), request=approved)


def test_the_version_a_release_deployed_is_what_a_new_version_is_compared_with(cast):
    from governance.inventory.services import model_version_register
    from governance.policy.services import decision_evaluate

    released = release_request_submit(
        actor=as_user(cast.rita), request=draft(cast, system=cast.low, version=cast.low_v)
    )
    release_request_deploy(actor=as_user(cast.rita), request=released)  # 1.0, auc 0.91

    def register(version, auc):
        return model_version_register(
            actor=Actor.system("tests"),
            system=cast.low,
            version=version,
            framework="sklearn",
            artifact_format="onnx",
            datasets=list(cast.low_v.datasets.all()),
            code_commit_sha="b" * 40,
            parameters={"max_depth": 6},
            evaluation=[{"metric": "auc", "value": auc, "threshold": 0.8}],
        )

    def ask(version):
        request = deployment_request_resolve(
            system_slug=cast.low.slug, version=version, environment="production", requester="ci"
        )
        return decision_evaluate(actor=Actor.system("ci"), endpoint="api", request=request)

    register("1.5", 0.99)
    assert ask("1.5").allow  # allowed by a pipeline check, but never deployed
    register("2.0", 0.90)
    decision = ask("2.0")
    assert decision.input["current_version"]["version"] == "1.0"
    assert "evaluation.regression" not in {v["code"] for v in decision.violations}
