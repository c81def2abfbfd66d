"""Kubernetes admission: an AdmissionReview (admission.k8s.io/v1) in, one out.

A workload names its AI system and model version with the label ``governance.ai/system``
(on the object's own metadata.labels: the webhook's objectSelector sees labels only) and
``governance.ai/model-version`` (label or annotation), optionally ``governance.ai/environment``;
otherwise its namespace's environment mapping decides where it deploys. A KServe
InferenceService may leave the version out: its predictor's storageUri is matched against
registered artifact URIs.

What the gate judges is what a change introduces. Stopping is always allowed (DELETE, scale
to zero, suspend, deletionTimestamp, traffic moved off a canary); an UPDATE that leaves the
governed fields alone (status, metadata, finalizers, owner references, replicas) is allowed
without running the policy; non-workload kinds and subresources are allowed untouched. Every
denial is a 403 with a reason, is in the decision log, and carries the decision id.
"""

from dataclasses import dataclass, field
from typing import Any

from rest_framework.exceptions import ValidationError

from governance.core.actor import Actor
from governance.core.errors import NotFound
from governance.inventory.models import Environment, ModelVersion
from governance.policy.models import Decision, Endpoint
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate, decision_refuse
from governance.webhooks.environments import environment_resolve, unmapped_message
from governance.webhooks.k8s_objects import (
    KSERVE_GROUP,
    LABEL_SYSTEM,
    LABEL_VERSION,
    WORKLOAD_KINDS,
    Names,
    as_dict,
    governance_names,
    governed_fingerprint,
    kserve_model,
    stops,
)
from governance.webhooks.models import MappingSource

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
WARNING_MAX_CHARS = 256
# The API server prefixes audit annotation keys with the webhook's name
# ("<webhook name>/decision-id"), so the key itself carries no prefix.
AUDIT_ANNOTATION = "decision-id"
CONTROLLER_KINDS = frozenset({"ReplicaSet", "Job", "StatefulSet", "DaemonSet"})


def review_validate(review: Any) -> dict[str, Any]:
    """The review's request, or a 400 naming what is wrong."""
    if not isinstance(review, dict):
        raise ValidationError({"non_field_errors": ["Send an AdmissionReview JSON object."]})
    errors: dict[str, list[str]] = {}
    if review.get("apiVersion") != API_VERSION:
        errors["apiVersion"] = [f"Only {API_VERSION} is supported."]
    if review.get("kind") != KIND:
        errors["kind"] = [f"Must be {KIND}."]
    request = review.get("request")
    if not isinstance(request, dict):
        errors["request"] = ["The AdmissionReview has no request object."]
    else:
        uid = request.get("uid")
        if not isinstance(uid, str) or not uid.strip():
            errors["request.uid"] = ["request.uid is required."]
        for key in ("object", "oldObject"):
            if request.get(key) is not None and not isinstance(request.get(key), dict):
                errors[f"request.{key}"] = [f"request.{key} must be an object or null."]
    if errors:
        raise ValidationError(errors)
    return request


def _response(uid: str, allowed: bool, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "response": {"uid": uid, "allowed": allowed, **extra},
    }


def _short(text: str) -> str:
    return text[:WARNING_MAX_CHARS]


def decision_review(uid: str, decision: Decision, warnings: list[str] | None = None) -> dict:
    extra: dict[str, Any] = {"auditAnnotations": {AUDIT_ANNOTATION: str(decision.decision_id)}}
    found = [
        *(warnings or []),
        *(str(v.get("message", v.get("code", ""))) for v in decision.warnings),
    ]
    if found:
        extra["warnings"] = [_short(w) for w in found]
    if decision.allow:
        return _response(uid, True, **extra)
    denials = "; ".join(str(v.get("message", v.get("code", ""))) for v in decision.denials)
    message = f"{decision.decision_id}: {denials or 'denied by policy'}"
    return _response(
        uid, False, status={"code": 403, "reason": "Forbidden", "message": message}, **extra
    )


@dataclass
class _Review:
    """One admission request, read once."""

    uid: str
    operation: str
    group: str
    kind: str
    namespace: str
    name: str
    obj: dict[str, Any]
    old: dict[str, Any]
    dry_run: bool
    requester: str
    subresource: str
    names: Names = field(default_factory=Names)

    def change(self, **extra: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "operation": self.operation,
            "uid": self.uid,
            **extra,
        }


def _read(request: dict[str, Any]) -> _Review:
    kind = as_dict(request.get("kind"))
    obj = as_dict(request.get("object"))
    metadata = as_dict(obj.get("metadata"))
    return _Review(
        uid=request["uid"],
        operation=str(request.get("operation", "")),
        group=str(kind.get("group", "")),
        kind=str(kind.get("kind", "")),
        namespace=str(request.get("namespace") or metadata.get("namespace") or ""),
        name=str(request.get("name") or metadata.get("name") or metadata.get("generateName") or ""),
        obj=obj,
        old=as_dict(request.get("oldObject")),
        dry_run=request.get("dryRun") is True,
        requester=str(as_dict(request.get("userInfo")).get("username", "")),
        subresource=str(request.get("subResource") or ""),
        names=governance_names(obj),
    )


def _refuse(actor: Actor, review: _Review, *, code: str, message: str, **names: str) -> dict:
    decision = decision_refuse(
        actor=actor,
        endpoint=Endpoint.KUBERNETES,
        code=code,
        message=message,
        system_slug=names.get("system", review.names.system),
        model_version=names.get("model_version", review.names.model_version),
        environment=names.get("environment", ""),
        requester=review.requester,
        change=review.change(),
        dry_run=review.dry_run,
    )
    return decision_review(review.uid, decision)


def _controlled_pod(review: _Review) -> bool:
    """A Pod its controller made from a template the gate has already seen."""
    owners = as_dict(review.obj.get("metadata")).get("ownerReferences")
    return review.kind == "Pod" and any(
        as_dict(o).get("controller") is True and as_dict(o).get("kind") in CONTROLLER_KINDS
        for o in (owners if isinstance(owners, list) else [])
    )


def _version_by_storage_uri(review: _Review) -> ModelVersion | None:
    """The registered version whose artifact URI the InferenceService serves (unique match)."""
    uri = kserve_model(review.obj).storage_uri.rstrip("/")
    if not uri:
        return None
    matches = ModelVersion.objects.select_related("system").filter(
        artifact_uri__in=[uri, f"{uri}/"], archived_at__isnull=True
    )
    if review.names.system:
        matches = matches.filter(system__slug=review.names.system)
    found = list(matches[:2])
    return found[0] if len(found) == 1 else None


def admission_review(*, actor: Actor, review: Any, governed_namespace: bool = False) -> dict:
    """Decide one AdmissionReview; always answers an AdmissionReview (400 only if malformed).

    ``governed_namespace``: the request came through the webhook that the configuration
    scopes to namespaces labelled governed, where a workload must name its system."""
    request = _read(review_validate(review))
    if (request.group, request.kind) not in WORKLOAD_KINDS or request.subresource:
        return _response(request.uid, True)  # not a workload, or status/scale: not ours
    if request.operation not in ("CREATE", "UPDATE"):
        return _response(request.uid, True)  # DELETE and CONNECT: stopping is always allowed
    if request.operation == "UPDATE":
        if stops(request.obj, request.old):
            return _response(request.uid, True)
        was_named = governance_names(request.old).any
        if was_named and not request.names.any:
            return _refuse(
                actor,
                request,
                code="governance.labels_removed",
                message=f"Governance policy: this {request.kind} was governed; removing its "
                f"{LABEL_SYSTEM} and {LABEL_VERSION} labels is not allowed. Delete or scale it "
                "to zero instead, or restore the labels.",
                **{"system": governance_names(request.old).system},
            )
        if governed_fingerprint(request.obj) == governed_fingerprint(request.old):
            return _response(request.uid, True)  # nothing governance judges has changed

    kserve = request.group == KSERVE_GROUP
    by_uri = (
        _version_by_storage_uri(request) if kserve and not request.names.model_version else None
    )
    namespace = environment_resolve(source=MappingSource.NAMESPACE, name=request.namespace)
    if not request.names.any and by_uri is None:
        # A controller's Pod: the controller itself was judged (or refused) at its level.
        if (governed_namespace or namespace.governed) and not _controlled_pod(request):
            return _refuse(
                actor,
                request,
                code="governance.unnamed",
                message=f"Governance policy: namespace {request.namespace!r} is governed; add "
                f"the label {LABEL_SYSTEM} and the label or annotation {LABEL_VERSION} to this "
                f"{request.kind} so its model version can be checked.",
            )
        return _response(
            request.uid,
            True,
            warnings=[
                _short(
                    f"Governance: this {request.kind} names no AI system ({LABEL_SYSTEM}), so "
                    "no policy checked it."
                )
            ],
        )
    if request.names.any and not request.names.system_labelled and not _controlled_pod(request):
        return _refuse(
            actor,
            request,
            code="governance.label_required",
            message=f"Governance policy: put the label {LABEL_SYSTEM} in this {request.kind}'s "
            "own metadata.labels. It is named only in annotations or on its pod template, "
            "which the webhook's objectSelector cannot see: the object itself would go "
            "unchecked and its pods would be refused later.",
        )
    system = request.names.system or (by_uri.system.slug if by_uri else "")
    version = request.names.model_version or (by_uri.version if by_uri else "")
    if not system or not version:
        missing = LABEL_VERSION if system else LABEL_SYSTEM
        hint = " (or a storageUri registered as a version's artifact URI)" if kserve else ""
        return _refuse(
            actor,
            request,
            code="governance.unnamed",
            message=f"Governance policy: add {missing}{hint} to this {request.kind} so its "
            "model version can be checked.",
            system=system,
        )
    if request.names.environment:
        environment = request.names.environment.lower()
        if environment not in Environment.values:
            return _refuse(
                actor,
                request,
                code="governance.environment_unknown",
                message=f"Governance policy: unknown environment {request.names.environment!r} "
                f"in governance.ai/environment; use {', '.join(Environment.values)}.",
                system=system,
                model_version=version,
            )
    elif namespace.environment:
        environment = namespace.environment
    else:
        return _refuse(
            actor,
            request,
            code="governance.environment_unmapped",
            message="Governance policy: "
            + unmapped_message(source=MappingSource.NAMESPACE, name=request.namespace),
            system=system,
            model_version=version,
        )
    extra: dict[str, Any] = {}
    if kserve:
        model = kserve_model(request.obj)
        extra = {
            "storage_uri": model.storage_uri,
            "model_format": model.format,
            "canary_traffic_percent": model.canary_traffic_percent,
        }
    try:
        deployment = deployment_request_resolve(
            system_slug=system,
            version=version,
            environment=environment,
            requester=request.requester,
            change=request.change(**extra),
        )
    except NotFound as exc:
        return _refuse(
            actor,
            request,
            code="inventory.unknown",
            message=f"Governance policy: {exc.detail} Register it before deploying.",
            system=system,
            model_version=version,
            environment=environment,
        )
    decision = decision_evaluate(
        actor=actor, endpoint=Endpoint.KUBERNETES, request=deployment, dry_run=request.dry_run
    )
    return decision_review(request.uid, decision)
