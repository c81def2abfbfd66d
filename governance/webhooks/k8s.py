"""Kubernetes admission: an AdmissionReview (admission.k8s.io/v1) in, one out.

The object names its AI system and model version with labels or annotations
``governance.ai/system``, ``governance.ai/model-version`` and optionally
``governance.ai/environment`` (default production), on the object itself or on its pod
template (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs). Annotations win over labels,
the object over its template. Every CREATE/UPDATE is decided by the active policy; an object
that names nothing is refused (fail closed: scope the webhook with an objectSelector).
"""

from typing import Any

from rest_framework.exceptions import ValidationError

from governance.core.actor import Actor
from governance.core.errors import NotFound
from governance.policy.models import Decision, Endpoint
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
LABEL_SYSTEM = "governance.ai/system"
LABEL_VERSION = "governance.ai/model-version"
LABEL_ENVIRONMENT = "governance.ai/environment"
DEFAULT_ENVIRONMENT = "production"
WARNING_MAX_CHARS = 256
# The API server prefixes audit annotation keys with the webhook's name
# ("<webhook name>/decision-id"), so the key itself carries no prefix.
AUDIT_ANNOTATION = "decision-id"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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
        if request.get("object") is not None and not isinstance(request.get("object"), dict):
            errors["request.object"] = ["request.object must be an object or null."]
    if errors:
        raise ValidationError(errors)
    return request


def _metadata_sources(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = _dict(obj.get("spec"))
    templates = [
        _dict(_dict(spec.get("template")).get("metadata")),
        _dict(
            _dict(_dict(_dict(spec.get("jobTemplate")).get("spec")).get("template")).get("metadata")
        ),
    ]
    return [_dict(obj.get("metadata")), *templates]


def governance_names(obj: dict[str, Any]) -> dict[str, str]:
    """system / model_version / environment as the object names them ('' when absent)."""
    names = {}
    for key, label in (
        ("system", LABEL_SYSTEM),
        ("model_version", LABEL_VERSION),
        ("environment", LABEL_ENVIRONMENT),
    ):
        value = ""
        for metadata in _metadata_sources(obj):
            for field in ("annotations", "labels"):
                found = _dict(metadata.get(field)).get(label)
                if isinstance(found, str) and found.strip():
                    value = found.strip()
                    break
            if value:
                break
        names[key] = value
    return names


def _response(uid: str, allowed: bool, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "response": {"uid": uid, "allowed": allowed, **extra},
    }


def _denied(uid: str, code: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return _response(
        uid, False, status={"code": code, "reason": reason, "message": message}, **extra
    )


def decision_review(uid: str, decision: Decision) -> dict[str, Any]:
    extra: dict[str, Any] = {"auditAnnotations": {AUDIT_ANNOTATION: str(decision.decision_id)}}
    warnings = [
        str(v.get("message", v.get("code", "")))[:WARNING_MAX_CHARS] for v in decision.warnings
    ]
    if warnings:
        extra["warnings"] = warnings
    if decision.allow:
        return _response(uid, True, **extra)
    denials = "; ".join(str(v.get("message", v.get("code", ""))) for v in decision.denials)
    message = f"{decision.decision_id}: {denials or 'denied by policy'}"
    return _denied(uid, 403, "Forbidden", message, **extra)


def admission_review(*, actor: Actor, review: Any) -> dict[str, Any]:
    """Decide one AdmissionReview; always answers an AdmissionReview (400 only if malformed)."""
    request = review_validate(review)
    uid = request["uid"]
    operation = str(request.get("operation", ""))
    obj = request.get("object")
    if operation == "DELETE":
        return _response(uid, True)
    names = governance_names(obj or {})
    missing = [
        label
        for label, key in ((LABEL_SYSTEM, "system"), (LABEL_VERSION, "model_version"))
        if not names[key]
    ]
    if missing:
        return _denied(
            uid,
            403,
            "Forbidden",
            f"Governance policy: add the label or annotation {' and '.join(missing)} "
            "to the object or its pod template so the AI system and model version can be "
            "checked (or exclude it with the webhook's objectSelector).",
        )
    user = _dict(request.get("userInfo"))
    change = {
        "kind": str(_dict(request.get("kind")).get("kind", "")),
        "namespace": str(request.get("namespace", "")),
        "name": str(request.get("name", "") or _dict(_dict(obj).get("metadata")).get("name", "")),
        "operation": operation,
        "uid": uid,
    }
    try:
        deployment = deployment_request_resolve(
            system_slug=names["system"],
            version=names["model_version"],
            environment=names["environment"] or DEFAULT_ENVIRONMENT,
            requester=str(user.get("username", "")),
            change=change,
        )
    except NotFound as exc:
        return _denied(uid, 404, "NotFound", f"Governance policy: {exc.detail}")
    decision = decision_evaluate(actor=actor, endpoint=Endpoint.KUBERNETES, request=deployment)
    return decision_review(uid, decision)
