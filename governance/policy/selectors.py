"""Reads of the policy app, scoped by permission."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from governance.accounts.permissions import Perm, has_perm
from governance.core.errors import NotFound
from governance.inventory.models import AISystem, Environment, ModelVersion
from governance.policy.inputs import DeploymentRequest
from governance.policy.models import Decision, PolicyVersion, VersionStatus


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
    version and environment (none if there is no such request)."""
    if environment not in Environment.values:
        raise NotFound(
            f"Unknown environment {environment!r}; use {', '.join(Environment.values)}.",
            errors={"environment": [f"Choose from {', '.join(Environment.values)}."]},
        )
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

    return DeploymentRequest(
        system=system,
        model_version=model_version,
        environment=environment,
        requester=requester,
        change=change or {},
        current_version=current,
        approvals=release_approvals_for(
            system=system, model_version=model_version, environment=environment
        ),
    )


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
    return decisions


def decision_get(*, principal: Any, decision_id: str) -> Decision:
    return get_object_or_404(decision_list(principal=principal), decision_id=decision_id)
