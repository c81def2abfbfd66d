"""The input document every policy sees: one deployment request, with what the product knows
about the system, the model version and its datasets, the version it replaces, approvals,
control coverage and kill switches."""

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from governance.controls.selectors import ai_act_policy_facts, required_gaps
from governance.inventory.models import AISystem, ModelVersion
from governance.policy.models import AllowedVersion
from governance.runtime.selectors import kill_switches_engaged_for

INPUT_VERSION = 1


@dataclass(frozen=True)
class DeploymentRequest:
    """What a caller asks: this system's model version, to this environment, for this person."""

    system: AISystem
    model_version: ModelVersion
    environment: str
    requester: str
    change: dict[str, Any] = field(default_factory=dict)
    current_version: ModelVersion | None = None
    # [{"approver": username, "decision": "approve" | "reject" | "request_changes"}]: the live
    # approvals of the release request this deployment belongs to.
    approvals: list[dict[str, str]] = field(default_factory=list)
    # What known_input() found for this request, when the resolver keeps it with the request
    # (see input_cache); None: read when the input is built.
    known: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # The audit chain head's hash when it was resolved, for the same purpose.
    audit_head: str | None = field(default=None, compare=False, repr=False)


def utc_stamp(moment: datetime) -> str:
    """RFC 3339 UTC to the second: the one shape policies compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version_document(version: ModelVersion) -> dict[str, Any]:
    parameters = version.parameters if isinstance(version.parameters, dict) else {}
    return {
        "version": version.version,
        "framework": version.framework,
        "provider": str(parameters.get("provider", "")),
        "artifact_format": version.artifact_format,
        "artifact_uri": version.artifact_uri,
        "artifact_sha256": version.artifact_sha256,
        "code_commit_sha": version.code_commit_sha,
        "parameters": parameters,
        "evaluation": _evaluation(version),
        "prompt_version": version.prompt_version,
        "missing_metadata": list(version.missing_metadata),
        "datasets": [
            {"slug": d.slug, "classification": d.classification, "lineage_uri": d.lineage_uri}
            for d in version.datasets.all()
        ],
        "archived": version.archived_at is not None,
        # What the artifact inspector read from the files (findings, format, signature); {}
        # for versions registered by hand.
        "artifact": _artifact_document(version.artifact),
    }


def _evaluation(version: ModelVersion) -> list[dict[str, Any]]:
    return [m for m in version.evaluation if isinstance(m, dict) and "metric" in m]


def _artifact_document(artifact: Any) -> dict[str, Any]:
    if not isinstance(artifact, dict) or not artifact:
        return {"inspected": False, "findings": []}
    findings = artifact.get("findings") if isinstance(artifact.get("findings"), list) else []
    return {
        "inspected": True,
        "format": str(artifact.get("format", "")),
        "sha256": str(artifact.get("sha256", "")),
        "framework": str(artifact.get("framework", "")),
        "framework_version": str(artifact.get("framework_version", "")),
        "license": str(artifact.get("license", "")),
        "datasets": list(artifact.get("datasets") or []),
        "findings": [f for f in findings if isinstance(f, dict)],
    }


_READ = object()


def _version_in_environment(
    request: DeploymentRequest, *, last_allowed: str | object | None = _READ
) -> ModelVersion | None:
    """The version the request replaces: the one the caller names, else the other version
    most recently deployed there through a release request, else the last other version a
    policy decision allowed into that environment (for pipelines that skip releases;
    ``last_allowed`` when the caller has read it already)."""
    if request.current_version is not None:
        return request.current_version
    from governance.releases.models import ReleaseRequest, ReleaseState

    deployed = (
        ReleaseRequest.objects.filter(
            system=request.system, environment=request.environment, state=ReleaseState.DEPLOYED
        )
        .exclude(model_version=request.model_version)
        .select_related("model_version")
        .order_by("-deployed_at")
        .first()
    )
    if deployed is not None:
        return deployed.model_version
    last = last_allowed
    if last is _READ:
        last = (
            AllowedVersion.objects.filter(
                system_slug=request.system.slug, environment=request.environment
            )
            .exclude(model_version=request.model_version.version)
            .values_list("model_version", flat=True)
            .first()
        )
    if last is None:
        return None
    return ModelVersion.objects.filter(system=request.system, version=last).first()


def known_input(
    request: DeploymentRequest, *, last_allowed: str | object | None = _READ
) -> dict[str, Any]:
    """The input's parts that do not depend on who asks or when: the system, the version and
    the one it replaces, approvals, coverage and kill switches."""
    system, version = request.system, request.model_version
    required, gaps = required_gaps(system=system)
    current = _version_in_environment(request, last_allowed=last_allowed)
    return {
        "system": {
            "slug": system.slug,
            "name": system.name,
            "risk_tier": system.risk_tier,
            "lifecycle_stage": system.lifecycle_stage,
            "owner": system.owner.username,
            "data_categories": list(system.data_categories),
            "deployment_environments": list(system.deployment_environments),
            "is_genai": system.is_genai,
            "archived": system.archived_at is not None,
            "eu_ai_act": ai_act_policy_facts(system=system),
        },
        "model_version": _version_document(version),
        "current_version": None
        if current is None
        else {"version": current.version, "evaluation": _evaluation(current)},
        "approvals": [dict(a) for a in request.approvals],
        "coverage": {"required": required, "missing_required": gaps},
        "kill_switches": kill_switches_engaged_for(system=system, environment=request.environment),
    }


def deployment_input(request: DeploymentRequest, *, now: datetime | None = None) -> dict[str, Any]:
    # A copy: the document is the caller's to mask and keep, the known parts may be shared.
    known = copy.deepcopy(request.known) if request.known is not None else known_input(request)
    return {
        "input_version": INPUT_VERSION,
        "request": {
            "environment": request.environment,
            "requester": request.requester,
            "change": request.change,
        },
        **known,
        "now": utc_stamp(now or timezone.now()),
    }


def version_in_environment(request: DeploymentRequest) -> ModelVersion | None:
    """The version ``request`` replaces, as the policy sees it (the release page compares
    the proposed version with the same one)."""
    return _version_in_environment(request)
