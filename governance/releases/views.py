"""Release pages: the approvals queue, a request at a glance, the requester's and the
approver's actions (HTMX forms with a reason and a confirm), approver assignments."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.controls.coverage import coverage_for
from governance.controls.heatmap import share_fill
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.htmx import invalid_input_status
from governance.inventory.models import ModelVersion
from governance.policy.models import Decision
from governance.releases.approvals import release_approval_record
from governance.releases.assignments import approver_assignment_create, approver_assignment_delete
from governance.releases.comparison import release_comparison, release_latest_decision
from governance.releases.forms import (
    ApprovalForm,
    AssignmentForm,
    OptionalReasonForm,
    ReasonForm,
    ReleaseEditForm,
    ReleaseFilterForm,
    ReleaseForm,
)
from governance.releases.models import (
    EDITABLE,
    ApprovalDecision,
    ApproverAssignment,
    ReleaseState,
)
from governance.releases.selectors import (
    approvals_all,
    approver_assignment_list,
    approver_is_assigned,
    approving_count,
    release_request_get,
    release_request_list,
    release_timeline,
    waiting_for,
)
from governance.releases.services import (
    PolicyDenied,
    release_request_create,
    release_request_deploy,
    release_request_recheck,
    release_request_rollback,
    release_request_submit,
    release_request_update,
    release_request_withdraw,
)

S = ReleaseState


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _form_errors(form: Any, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, _error_text(exc))


class ReleaseQueueView(PermissionRequiredMixin, View):
    """Waiting for me, my requests, and every request with filters."""

    required_permission = Perm.RELEASES_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ReleaseFilterForm(request.GET)
        valid = form.is_valid()
        filters = form.cleaned_data if valid else {}
        releases = release_request_list(
            principal=request.user,
            state=filters.get("state", ""),
            system=filters["system"].slug if filters.get("system") else "",
            environment=filters.get("environment", ""),
        )
        if not valid:
            releases = releases.none()
        page = Paginator(releases, 50).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_request": has_perm(request.user, Perm.RELEASES_REQUEST),
            "can_approve": has_perm(request.user, Perm.RELEASES_APPROVE),
            "can_configure": has_perm(request.user, Perm.RELEASES_CONFIGURE),
        }
        status = 200 if valid else invalid_input_status(request)
        if request.htmx:
            return render(request, "releases/htmx/release_rows.html", context, status=status)
        context["waiting"] = waiting_for(user=request.user)
        context["mine"] = list(
            release_request_list(principal=request.user, requester=request.user).exclude(
                state__in=[S.WITHDRAWN, S.ROLLED_BACK, S.REJECTED]
            )[:20]
        )
        return render(request, "releases/queue.html", context, status=status)


def _resolve_version(form: ReleaseForm, system: Any) -> ModelVersion | None:
    version = ModelVersion.objects.filter(
        system=system, version=form.cleaned_data["model_version"].strip()
    ).first()
    if version is None:
        form.add_error("model_version", f"{system.slug} has no registered version of that name.")
    return version


class ReleaseCreateView(PermissionRequiredMixin, View):
    required_permission = Perm.RELEASES_REQUEST

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {k: request.GET[k] for k in ("system", "model_version") if k in request.GET}
        return render(request, "releases/form.html", {"form": ReleaseForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReleaseForm(request.POST)
        if form.is_valid():
            fields = dict(form.cleaned_data)
            version = _resolve_version(form, fields["system"])
            if version is not None:
                fields["model_version"] = version
                try:
                    release = release_request_create(actor=Actor.from_request(request), **fields)
                except (DomainError, ValidationError) as exc:
                    _form_errors(form, exc)
                else:
                    messages.success(request, "Draft saved. Submit it when it is ready for review.")
                    return redirect("releases:detail", public_id=release.public_id)
        return render(request, "releases/form.html", {"form": form}, status=400)


class ReleaseEditView(PermissionRequiredMixin, View):
    required_permission = Perm.RELEASES_REQUEST

    def _initial(self, release: Any) -> dict[str, Any]:
        return {
            "system": release.system.slug,
            "model_version": release.model_version.version,
            "environment": release.environment,
            "title": release.title,
            "change_summary": release.change_summary,
            "justification": release.justification,
            "evaluation_links": "\n".join(release.evaluation_links),
        }

    def get(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        release = release_request_get(principal=request.user, public_id=public_id)
        form = ReleaseEditForm(initial=self._initial(release))
        return render(request, "releases/form.html", {"form": form, "release": release})

    def post(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        release = release_request_get(principal=request.user, public_id=public_id)
        form = ReleaseEditForm(request.POST, initial=self._initial(release))
        if form.is_valid():
            fields = dict(form.cleaned_data)
            fields.pop("system")
            reason = fields.pop("reason", "")
            version = _resolve_version(form, release.system)
            if version is not None:
                fields["model_version"] = version
                try:
                    updated = release_request_update(
                        actor=Actor.from_request(request), request=release, reason=reason, **fields
                    )
                except (DomainError, ValidationError) as exc:
                    _form_errors(form, exc)
                else:
                    voided = updated.content_hash != release.content_hash and release.state in (
                        S.SUBMITTED,
                        S.APPROVED,
                        S.CHANGES_REQUESTED,
                    )
                    messages.success(
                        request,
                        "Saved. Earlier approvals were voided: approvers review the new content."
                        if voided
                        else "Saved.",
                    )
                    return redirect("releases:detail", public_id=release.public_id)
        context = {"form": form, "release": release}
        return render(request, "releases/form.html", context, status=400)


def _detail_context(request: HttpRequest, release: Any) -> dict[str, Any]:
    user = request.user
    approvals = approvals_all(request=release)
    live = [a for a in approvals if a.voided_at is None and a.content_hash == release.content_hash]
    is_requester = user.pk == release.requester_id
    may_approve = (
        has_perm(user, Perm.RELEASES_APPROVE)
        and not is_requester
        and release.state == S.SUBMITTED
        and not any(a.approver_id == user.pk for a in live)
    )
    assigned = approver_is_assigned(
        user=user, system=release.system, environment=release.environment
    )
    coverage = None
    if has_perm(user, Perm.CONTROLS_VIEW):
        coverage = coverage_for([release.system])[release.system.pk]
    other_blocking = [
        v
        for v in (release.submit_decision.denials if release.submit_decision else [])
        if v.get("code") != "approvals.insufficient"
    ]
    latest = release_latest_decision(request=release)
    return {
        "release": release,
        "comparison": release_comparison(request=release),
        "latest_decision": latest,
        "latest_blocking": [
            v
            for v in (latest.denials if latest else [])
            if v.get("code") != "approvals.insufficient"
        ],
        "can_recheck": has_perm(user, Perm.POLICY_CHECK)
        and release.state in (S.SUBMITTED, S.APPROVED),
        "other_blocking": other_blocking,
        "version": release.model_version,
        "approvals": approvals,
        "have": approving_count(request=release),
        "need": release.required_approvals,
        "timeline": release_timeline(principal=user, request=release),
        "is_requester": is_requester,
        "may_approve": may_approve and assigned,
        "not_assigned": may_approve and not assigned,
        "break_glass_available": settings.RELEASE_BREAK_GLASS_ENABLED
        and has_perm(user, Perm.RELEASES_CONFIGURE)
        and not is_requester
        and release.state == S.SUBMITTED,
        "can_edit": is_requester and release.state in EDITABLE,
        "can_submit": is_requester and release.state in (S.DRAFT, S.CHANGES_REQUESTED, S.EXPIRED),
        "can_withdraw": (is_requester or has_perm(user, Perm.RELEASES_CONFIGURE))
        and release.state in (S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED, S.EXPIRED),
        "can_deploy": has_perm(user, Perm.RELEASES_DEPLOY) and release.state == S.APPROVED,
        "can_rollback": has_perm(user, Perm.RELEASES_DEPLOY) and release.state == S.DEPLOYED,
        "coverage": coverage,
        "coverage_fill": share_fill(coverage.total.share) if coverage else "",
        "approval_form": ApprovalForm(initial={"content_hash": release.content_hash}),
        "decisions": ApprovalDecision,
        "S": S,
    }


class ReleaseDetailView(PermissionRequiredMixin, View):
    required_permission = Perm.RELEASES_VIEW

    def get(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        release = release_request_get(principal=request.user, public_id=public_id)
        context = _detail_context(request, release)
        denied = request.session.pop("denied_decision", None)
        if denied:
            context["denied_decision"] = Decision.objects.filter(decision_id=denied).first()
        return render(request, "releases/detail.html", context)


class ReleaseApproveView(PermissionRequiredMixin, View):
    """Approve, reject or request changes: an HTMX form with a reason; on success the whole
    page reloads so the new state cannot be missed."""

    required_permission = Perm.RELEASES_APPROVE

    def post(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        release = release_request_get(principal=request.user, public_id=public_id)
        form = ApprovalForm(request.POST)
        if form.is_valid():
            try:
                release_approval_record(
                    actor=Actor.from_request(request), request=release, **form.cleaned_data
                )
            except (DomainError, ValidationError) as exc:
                _form_errors(form, exc)
            else:
                label = ApprovalDecision(form.cleaned_data["decision"]).label
                messages.success(request, f"Recorded: {label.lower()}, with your reason.")
                url = reverse("releases:detail", kwargs={"public_id": release.public_id})
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        context = {**_detail_context(request, release), "approval_form": form}
        status = invalid_input_status(request)
        template = "releases/htmx/approval_form.html" if request.htmx else "releases/detail.html"
        return render(request, template, context, status=status)


class _TransitionView(PermissionRequiredMixin, View):
    """A requester action from the request page: a service call with an optional reason."""

    form_class: type = OptionalReasonForm
    done = ""

    def act(self, actor: Actor, release: Any, reason: str) -> Any:
        raise NotImplementedError

    def post(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        release = release_request_get(principal=request.user, public_id=public_id)
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a reason: it is recorded in the audit log.")
        else:
            try:
                self.act(Actor.from_request(request), release, form.cleaned_data.get("reason", ""))
            except PolicyDenied as exc:
                messages.error(request, exc.detail)
                request.session["denied_decision"] = str(exc.decision.decision_id)
            except (DomainError, ValidationError) as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, self.done)
        return redirect("releases:detail", public_id=release.public_id)


class ReleaseSubmitView(_TransitionView):
    required_permission = Perm.RELEASES_REQUEST
    done = "Submitted for approval. The policy decision is attached below."

    def act(self, actor: Actor, release: Any, reason: str) -> Any:
        return release_request_submit(actor=actor, request=release)


class ReleaseWithdrawView(_TransitionView):
    required_permission = Perm.RELEASES_REQUEST
    form_class = ReasonForm
    done = "Withdrawn."

    def act(self, actor: Actor, release: Any, reason: str) -> Any:
        return release_request_withdraw(actor=actor, request=release, reason=reason)


class ReleaseDeployView(_TransitionView):
    required_permission = Perm.RELEASES_DEPLOY
    done = "Marked deployed: the policy allowed it just now."

    def act(self, actor: Actor, release: Any, reason: str) -> Any:
        return release_request_deploy(actor=actor, request=release, reason=reason)


class ReleaseRollbackView(_TransitionView):
    required_permission = Perm.RELEASES_DEPLOY
    form_class = ReasonForm
    done = "Rollback recorded."

    def act(self, actor: Actor, release: Any, reason: str) -> Any:
        return release_request_rollback(actor=actor, request=release, reason=reason)


class ApproverAssignmentView(PermissionRequiredMixin, View):
    """Who may approve where (admins)."""

    required_permission = {"GET": Perm.RELEASES_CONFIGURE, "POST": Perm.RELEASES_CONFIGURE}

    def _render(
        self, request: HttpRequest, form: AssignmentForm, status: int = 200
    ) -> HttpResponse:
        context = {"form": form, "assignments": approver_assignment_list()}
        return render(request, "releases/assignments.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, AssignmentForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AssignmentForm(request.POST)
        if form.is_valid():
            try:
                approver_assignment_create(
                    actor=Actor.from_request(request),
                    user=form.cleaned_data["user"],
                    system=form.cleaned_data["system"],
                    environment=form.cleaned_data["environment"],
                )
            except (DomainError, ValidationError) as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "Assignment added.")
                return redirect("releases:assignments")
        return self._render(request, form, status=400)


class ApproverAssignmentDeleteView(PermissionRequiredMixin, View):
    required_permission = Perm.RELEASES_CONFIGURE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        assignment = get_object_or_404(ApproverAssignment, pk=pk)
        approver_assignment_delete(actor=Actor.from_request(request), assignment=assignment)
        messages.success(request, "Assignment removed.")
        return redirect("releases:assignments")


class ReleaseRecheckView(PermissionRequiredMixin, View):
    """Re-check now: the policy decides again with the approvals given so far."""

    required_permission = Perm.POLICY_CHECK

    def post(self, request: HttpRequest, public_id: Any) -> HttpResponse:
        release = release_request_get(principal=request.user, public_id=public_id)
        try:
            decision = release_request_recheck(actor=Actor.from_request(request), request=release)
        except DomainError as exc:
            note, ok = exc.detail, False
        else:
            verdict = "allows" if decision.allow else f"denies ({len(decision.denials)} blocking)"
            note, ok = f"Re-checked just now: the policy {verdict}.", True
        if request.htmx:
            # The page, of which htmx swaps the at-a-glance card (and the chip by Approve).
            context = {**_detail_context(request, release), "recheck_note": note}
            return render(request, "releases/detail.html", context)
        (messages.success if ok else messages.error)(request, note)
        return redirect("releases:detail", public_id=release.public_id)
