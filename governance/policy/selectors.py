"""Reads of the policy app, scoped by permission."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from governance.accounts.permissions import Perm, has_perm
from governance.core.errors import NotFound
from governance.inventory.models import AISystem, Environment, ModelVersion
from governance.policy.input_cache import cached, input_state, remember
from governance.policy.inputs import DeploymentRequest, known_input
from governance.policy.models import Decision, PolicyVersion, ShadowResult, VersionStatus


def deployment_request_resolve(
    *,
    system_slug: str,
    version: str,
    environment: str,
    requester: str,
    change: dict[str, Any] | None = None,
    current_version: str | None = None,
) -> DeploymentRequest:
    """The request's system and versions from the inventory; unknown ones are 404. The
    approvals are those people gave to the latest approved release request for this system,
    version and environment (none if there is no such request).

    The request comes with its known input, from this process's cache while nothing it
    reflects has changed (input_cache says how that is known): one query instead of ten."""
    if environment not in Environment.values:
        raise NotFound(
            f"Unknown environment {environment!r}; use {', '.join(Environment.values)}.",
            errors={"environment": [f"Choose from {', '.join(Environment.values)}."]},
        )
    state = input_state(system_slug=system_slug, environment=environment, version=version)
    key = (system_slug, version, environment, current_version or "", state)
    hit = cached(key)
    if hit is not None:
        return replace(hit, requester=requester, change=change or {})
    # The version with its system in one query: every pipeline check takes this path.
    model_version = (
        ModelVersion.objects.select_related("system__owner")
        .prefetch_related("datasets")
        .filter(system__slug=system_slug, version=version)
        .first()
    )
    if model_version is None and not AISystem.objects.filter(slug=system_slug).exists():
        raise NotFound(
            f"No AI system {system_slug!r} is registered.",
            errors={"system": [f"Unknown AI system {system_slug!r}."]},
        )
    if model_version is None:
        raise NotFound(
            f"AI system {system_slug!r} has no model version {version!r}.",
            errors={"model_version": [f"Unknown model version {version!r}."]},
        )
    system = model_version.system
    current = None
    if current_version:
        current = (
            ModelVersion.objects.filter(system=system, version=current_version)
            .prefetch_related("datasets")
            .first()
        )
        if current is None:
            raise NotFound(
                f"AI system {system_slug!r} has no model version {current_version!r}.",
                errors={"current_version": [f"Unknown model version {current_version!r}."]},
            )
    # Imported here: the releases app reads the active policy through this module.
    from governance.releases.selectors import release_approvals_for

    approvals, approvals_expire = release_approvals_for(
        system=system, model_version=model_version, environment=environment
    )
    request = DeploymentRequest(
        system=system,
        model_version=model_version,
        environment=environment,
        requester=requester,
        change=change or {},
        current_version=current,
        approvals=approvals,
    )
    request = replace(
        request,
        known=known_input(request, last_allowed=state.last_allowed),
        audit_head=state.audit_head,
    )
    remember(key, request, until=approvals_expire)
    return request


def policy_version_active() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(status=VersionStatus.ACTIVE).first()


def policy_version_in_shadow() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(status=VersionStatus.SHADOW).first()


def policy_version_list(*, principal: Any) -> QuerySet[PolicyVersion]:
    if not has_perm(principal, Perm.POLICY_VIEW):
        return PolicyVersion.objects.none()
    return PolicyVersion.objects.order_by("-number")


def policy_version_get(*, principal: Any, number: int) -> PolicyVersion:
    return get_object_or_404(policy_version_list(principal=principal), number=number)


def policy_version_previous(version: PolicyVersion) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(number__lt=version.number).order_by("-number").first()


def decision_list(
    *,
    principal: Any,
    system: str = "",
    environment: str = "",
    allow: bool | None = None,
    endpoint: str = "",
    policy_version: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    disagreements_only: bool = False,
    dry_run: bool | None = None,
) -> QuerySet[Decision]:
    if not has_perm(principal, Perm.DECISIONS_VIEW):
        return Decision.objects.none()
    decisions = Decision.objects.select_related("policy_version", "shadow").order_by("-occurred_at")
    if system:
        decisions = decisions.filter(system_slug=system)
    if environment:
        decisions = decisions.filter(environment=environment)
    if allow is not None:
        decisions = decisions.filter(allow=allow)
    if endpoint:
        decisions = decisions.filter(endpoint=endpoint)
    if policy_version is not None:
        decisions = decisions.filter(policy_version__number=policy_version)
    if since is not None:
        decisions = decisions.filter(occurred_at__gte=since)
    if until is not None:
        decisions = decisions.filter(occurred_at__lt=until)
    if disagreements_only:
        decisions = decisions.filter(shadow__isnull=False)
    if dry_run is not None:
        decisions = decisions.filter(dry_run=dry_run)
    return decisions


def decision_get(*, principal: Any, decision_id: str) -> Decision:
    return get_object_or_404(decision_list(principal=principal), decision_id=decision_id)


# What every engine's timeout message says (embedded and OPA alike), and what the embedded
# engine says when an evaluation outgrew its memory: either way a runaway evaluation, stopped.
TIMEOUT_MARK = "did not decide within"
MEMORY_MARK = "MB; it was stopped"
OVERRUN_MARKS = (TIMEOUT_MARK, MEMORY_MARK)
HEALTH_WINDOW = timedelta(hours=1)


def _overran() -> Q:
    return Q(error__contains=TIMEOUT_MARK) | Q(error__contains=MEMORY_MARK)


def policy_version_overruns(*, version: PolicyVersion, since: datetime) -> int:
    """How many of ``version``'s evaluations (deciding or in shadow) were stopped at the timeout
    or the memory limit since then."""
    deciding = Decision.objects.filter(
        _overran(), policy_version=version, occurred_at__gte=since
    ).count()
    shadowing = ShadowResult.objects.filter(
        _overran(), policy_version=version, decision__occurred_at__gte=since
    ).count()
    return deciding + shadowing


def policy_version_health(*, version: PolicyVersion) -> dict[str, Any]:
    """A version's overruns in the last hour, and whether that many means it keeps overrunning.
    (The keys keep the names they had when only timeouts counted: audit events carry them.)"""
    timeouts = policy_version_overruns(version=version, since=timezone.now() - HEALTH_WINDOW)
    return {
        "timeouts_last_hour": timeouts,
        "timing_out": timeouts >= settings.POLICY_TIMEOUT_ALERT_COUNT,
    }
