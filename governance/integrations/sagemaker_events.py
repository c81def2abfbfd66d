"""What a SageMaker Model Registry event does.

EventBridge delivers "SageMaker Model Package State Change" events whose ``detail`` is the
package as ``DescribeModelPackage`` describes it. A new package waiting for approval
(``PendingManualApproval``) in a mapped model package group is registered as a version of the
group's AI system (containers, image digests, model data URL, metrics, metadata properties)
and decided by the policy for the environment mapped to ``Approved``: a denial that approvals
cannot cure (critical findings, a kill switch, missing metadata...) sets the package Rejected
with the violations as the reason; otherwise it waits for a release approval in the product
(sagemaker_writeback.py writes that decision back).

An Approved or Rejected status the product set itself (remembered as a write-back: the status
with the ``ApprovalDescription`` it wrote, which starts with OWN_MARKER for people to see) is
ignored. One set by someone else in SageMaker is recorded as
a change outside the product: audited, and shown on the integration's page."""

import math
import re
from typing import Any

from django.db import transaction

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.integrations.datasets import registry_dataset
from governance.integrations.mlflow_events import Outcome, _violations_text
from governance.integrations.models import (
    AliasMapping,
    DeliveryStatus,
    Integration,
    ModelMapping,
    RegistryDelivery,
    RegistryVersionLink,
    RegistryWriteBack,
)
from governance.integrations.sagemaker_writeback import OWN_MARKER, registry_write_back_request
from governance.inventory.models import ArtifactFormat, Framework, ModelVersion
from governance.inventory.services import model_version_register
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate

DETAIL_TYPE = "SageMaker Model Package State Change"
SOURCE = "aws.sagemaker"
PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"
APPROVALS_CODE = "approvals.insufficient"  # cured by a release approval in the product
_FRAMEWORKS = {
    "PYTORCH": Framework.PYTORCH,
    "TENSORFLOW": Framework.TENSORFLOW,
    "KERAS": Framework.TENSORFLOW,
    "SKLEARN": Framework.SKLEARN,
    "XGBOOST": Framework.XGBOOST,
    "LIGHTGBM": Framework.XGBOOST,
    "HUGGINGFACE": Framework.HUGGINGFACE,
    "SPARKML": Framework.SPARK_MLLIB,
}


def actor_for(integration: Integration) -> Actor:
    return Actor.system(f"sagemaker:{integration.slug}")


def _str_or_absent(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _has_nul(value: Any) -> bool:
    """NUL in a string or key (PostgreSQL's jsonb cannot store it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def sagemaker_event_problem(payload: Any) -> str:
    """Why this body is not an EventBridge event we can store ("" when it is one). Events of
    other types are well-formed (stored and ignored); ours must carry a usable detail."""
    if not isinstance(payload, dict):
        return "The body is not a JSON object."
    if _has_nul(payload):
        return "The event contains a NUL character."
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 200:
        return "The event has no id (EventBridge's event id, at most 200 characters)."
    if not isinstance(payload.get("detail-type"), str) or not isinstance(
        payload.get("source"), str
    ):
        return "The event has no detail-type and source."
    detail = payload.get("detail")
    if not isinstance(detail, dict):
        return "The event's detail is not an object."
    if payload["detail-type"] != DETAIL_TYPE:
        return ""
    arn = detail.get("ModelPackageArn")
    if not isinstance(arn, str) or not arn.startswith("arn:") or len(arn) > 2048:
        return "detail.ModelPackageArn is not a model package ARN."
    for key in ("ModelPackageGroupName", "ModelApprovalStatus", "ApprovalDescription"):
        if not _str_or_absent(detail.get(key)):
            return f"detail.{key} is not a string."
    version = detail.get("ModelPackageVersion")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return "detail.ModelPackageVersion is not a number."
    spec = detail.get("InferenceSpecification")
    if spec is not None and (
        not isinstance(spec, dict)
        or not isinstance(spec.get("Containers", []), list)
        or not all(isinstance(c, dict) for c in spec.get("Containers", []))
    ):
        return "detail.InferenceSpecification.Containers is not a list of objects."
    for key in ("CustomerMetadataProperties", "ModelMetrics", "MetadataProperties"):
        if detail.get(key) is not None and not isinstance(detail.get(key), dict):
            return f"detail.{key} is not an object."
    return ""


def _containers(detail: dict[str, Any]) -> list[dict[str, str]]:
    spec = detail.get("InferenceSpecification") or {}
    return [
        {
            "image": str(c.get("Image") or ""),
            "image_digest": str(c.get("ImageDigest") or ""),
            "model_data_url": str(c.get("ModelDataUrl") or ""),
            "framework": str(c.get("Framework") or ""),
            "framework_version": str(c.get("FrameworkVersion") or ""),
        }
        for c in spec.get("Containers") or []
    ]


def _properties(detail: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (detail.get("CustomerMetadataProperties") or {}).items()}


def _metrics(properties: dict[str, str]) -> list[dict[str, Any]]:
    """``metric.<name>`` properties with a number as value (SageMaker's ModelMetrics are S3
    reports the product does not read; they are kept as references)."""
    found = []
    for key, value in properties.items():
        if key.startswith("metric.") and key[7:]:
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number):
                found.append({"metric": key[7:], "value": number})
    return found


def register_from_sagemaker(
    integration: Integration, detail: dict[str, Any]
) -> tuple[ModelVersion | None, str]:
    group, version = (
        str(detail.get("ModelPackageGroupName") or ""),
        detail.get("ModelPackageVersion"),
    )
    if not group or version is None:
        return None, "the package is not a version of a model package group"
    mapping = ModelMapping.objects.filter(integration=integration, registry_model=group).first()
    if mapping is None:
        return None, f"no AI system is mapped to model package group {group!r}"
    containers = _containers(detail)
    properties = _properties(detail)
    primary = containers[0] if containers else {}
    framework = _FRAMEWORKS.get(primary.get("framework", "").upper(), Framework.OTHER)
    declared = properties.get("artifact_format", "")
    # model.tar.gz is not opened here: an undeclared format is taken as the strictest one.
    artifact_format = declared if declared in ArtifactFormat.values else ArtifactFormat.PICKLE
    sha = properties.get("artifact_sha256", "").lower()
    commit = properties.get("git_commit", "").lower()
    actor = actor_for(integration)
    with transaction.atomic():
        dataset = registry_dataset(
            actor=actor,
            name=properties.get("training_data", "").split("://", 1)[-1].strip("/"),
            source=properties.get("training_data", ""),
            owner=mapping.system.owner,
            note=f"Named by SageMaker model package {detail['ModelPackageArn']}",
        )
        model_version = model_version_register(
            actor=actor,
            system=mapping.system,
            datasets=[dataset] if dataset else [],
            version=str(version),
            framework=framework,
            framework_version=primary.get("framework_version", "")[:32],
            artifact_uri=primary.get("model_data_url", "")[:500],
            artifact_format=artifact_format,
            artifact_sha256=sha if re.fullmatch(r"[0-9a-f]{64}", sha) else "",
            code_commit_sha=commit if re.fullmatch(r"[0-9a-f]{7,40}", commit) else "",
            parameters={
                k[6:]: v for k, v in properties.items() if k.startswith("param.") and k[6:]
            },
            evaluation=_metrics(properties),
            artifact={
                "registry": "sagemaker",
                "model_package_arn": detail["ModelPackageArn"],
                "format_declared": declared in ArtifactFormat.values,
                "containers": containers,
                "model_metrics": detail.get("ModelMetrics") or {},
                "metadata_properties": detail.get("MetadataProperties") or {},
                "customer_metadata_properties": properties,
            },
        )
        RegistryVersionLink.objects.create(
            integration=integration,
            registry_model=group,
            registry_version=str(version),
            registry_ref=detail["ModelPackageArn"],
            model_version=model_version,
        )
    return model_version, f"registered {model_version} ({framework}, {artifact_format})"


def _decide(
    integration: Integration, link: RegistryVersionLink, model_version: ModelVersion, note: str
) -> Outcome:
    mapping = AliasMapping.objects.filter(integration=integration, alias=APPROVED).first()
    if mapping is None:
        return Outcome(
            DeliveryStatus.PROCESSED,
            f"{note}; no environment is mapped to {APPROVED}, so nothing was decided",
            model_version,
        )
    actor = actor_for(integration)
    request = deployment_request_resolve(
        system_slug=model_version.system.slug,
        version=model_version.version,
        environment=mapping.environment,
        requester=actor.label,
        change={
            "registry": "sagemaker",
            "model_package_group": link.registry_model,
            "model_package_version": link.registry_version,
            "model_package_arn": link.registry_ref,
        },
    )
    decision = decision_evaluate(actor=actor, endpoint="sagemaker", request=request)
    blocking = [v for v in decision.denials if v.get("code") != APPROVALS_CODE]
    if not blocking:
        return Outcome(
            DeliveryStatus.PROCESSED,
            f"{note}; waiting for a release approval to {mapping.environment} in the product",
            model_version,
            decision,
        )
    reasons = "; ".join(f"{v.get('code')}: {v.get('message')}" for v in blocking)
    registry_write_back_request(
        actor=actor,
        link=link,
        status=REJECTED,
        description=f"{OWN_MARKER} Policy denied {mapping.environment} "
        f"(decision {decision.decision_id}): {reasons}",
        cause=f"decision:{decision.decision_id}",
    )
    return Outcome(
        DeliveryStatus.PROCESSED,
        f"{note}; set Rejected: {_violations_text(decision)}",
        model_version,
        decision,
    )


def _outside(integration: Integration, detail: dict[str, Any], status: str) -> Outcome:
    arn = str(detail["ModelPackageArn"])
    link = RegistryVersionLink.objects.filter(integration=integration, registry_ref=arn).first()
    with transaction.atomic():
        audit_record(
            actor=actor_for(integration),
            action="integrations.sagemaker.status_set_outside",
            target=Target("integrations.integration", integration.slug, integration.name),
            after={
                "model_package_arn": arn,
                "status": status,
                "approval_description": str(detail.get("ApprovalDescription") or "")[:1024],
                "model_version": str(link.model_version) if link else None,
            },
            reason="The status was set in SageMaker, not by a release decision in the product.",
        )
    return Outcome(
        DeliveryStatus.PROCESSED,
        f"{status} in SageMaker, not through the product: {arn}",
        link.model_version if link else None,
    )


def sagemaker_delivery_handle(delivery: RegistryDelivery) -> Outcome:
    payload = delivery.payload if isinstance(delivery.payload, dict) else {}
    if payload.get("detail-type") != DETAIL_TYPE or payload.get("source") != SOURCE:
        return Outcome(DeliveryStatus.IGNORED, f"{payload.get('detail-type')} is not acted on")
    detail = payload["detail"]
    integration = delivery.integration
    status = str(detail.get("ModelApprovalStatus") or "")
    arn = str(detail["ModelPackageArn"])
    if status in (APPROVED, REJECTED):
        # What the product set, remembered: the status with the very description it wrote. A
        # marker typed into SageMaker by someone else does not make their change the product's.
        description = detail.get("ApprovalDescription")
        mine = RegistryWriteBack.objects.filter(
            integration=integration, registry_ref=arn, status=status
        )
        if description is not None:
            mine = mine.filter(description=description)
        if mine.exists():
            return Outcome(DeliveryStatus.IGNORED, f"{status}: the product's own change")
        known = (
            RegistryVersionLink.objects.filter(integration=integration, registry_ref=arn).exists()
            or ModelMapping.objects.filter(
                integration=integration, registry_model=str(detail.get("ModelPackageGroupName"))
            ).exists()
        )
        if not known:
            return Outcome(DeliveryStatus.IGNORED, f"{status} on a package of an unmapped group")
        return _outside(integration, detail, status)
    if status != PENDING:
        return Outcome(DeliveryStatus.IGNORED, f"status {status or 'none'} is not acted on")
    link = RegistryVersionLink.objects.filter(integration=integration, registry_ref=arn).first()
    if link is not None:
        return Outcome(DeliveryStatus.IGNORED, "already registered", link.model_version)
    model_version, note = register_from_sagemaker(integration, detail)
    if model_version is None:
        return Outcome(DeliveryStatus.IGNORED, note)
    return _decide(integration, model_version.registry_link, model_version, note)
