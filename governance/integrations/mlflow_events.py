"""What an MLflow delivery does.

``model_version.created``: read the version, its run and its files over MLflow's REST API,
inspect the files, and register the version on the mapped AI system (datasets from the run's
dataset inputs, params, metrics, git commit), then tag it in MLflow.

``model_version_alias.created`` for an alias mapped to an environment: a deployment request,
decided by the policy. The decision is written back as tags; a denied alias is removed again.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from governance.artifacts.inspector import inspect_blobs, memory_blob
from governance.artifacts.record import ArtifactRecord, InspectionError, Severity
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.incidents.services import incident_deployment_refused
from governance.integrations.datasets import registry_dataset
from governance.integrations.mlflow_api import MlflowApi, RegistryError
from governance.integrations.models import (
    AliasMapping,
    DeliveryStatus,
    Integration,
    ModelMapping,
    RegistryDelivery,
    RegistryVersionLink,
)
from governance.inventory.models import ArtifactFormat, Dataset, Framework, ModelVersion
from governance.inventory.services import model_version_register
from governance.policy.models import Decision
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate

_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
TAG_PREFIX = "governance."


@dataclass
class Outcome:
    status: str
    detail: str
    model_version: ModelVersion | None = None
    decision: Decision | None = None


def actor_for(integration: Integration) -> Actor:
    return Actor.system(f"mlflow:{integration.slug}")


def _pairs(items: Any) -> dict[str, Any]:
    return {
        str(i.get("key")): i.get("value")
        for i in items or []
        if isinstance(i, dict) and i.get("key") is not None
    }


def _datasets(actor: Actor, run: dict[str, Any], owner: Any) -> list[Dataset]:
    """The run's dataset inputs, as inventory datasets."""
    found: list[Dataset] = []
    for entry in (run.get("inputs") or {}).get("dataset_inputs") or []:
        dataset = (entry or {}).get("dataset") or {}
        match = registry_dataset(
            actor=actor,
            name=str(dataset.get("name") or ""),
            source=_dataset_source(dataset),
            owner=owner,
            note=f"Registered from MLflow (digest {dataset.get('digest', '')})",
        )
        if match is not None and match not in found:
            found.append(match)
    return found


def _dataset_source(dataset: dict[str, Any]) -> str:
    """MLflow keeps a dataset's source as a JSON document (``{"url": ...}``) or a string."""
    raw = dataset.get("source") or ""
    try:
        parsed = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
    except json.JSONDecodeError:
        parsed = raw
    if isinstance(parsed, dict):
        parsed = parsed.get("url") or parsed.get("uri") or parsed.get("path") or json.dumps(parsed)
    return str(parsed or dataset.get("source_type") or "mlflow")[:500]


def _inspect(api: MlflowApi, name: str, version: str) -> tuple[ArtifactRecord, str]:
    uri = api.download_uri(name, version)
    files, skipped = api.model_files(uri)
    if not files:
        raise RegistryError(f"the model directory {uri} has no files")
    record = inspect_blobs([memory_blob(p, d) for p, d in sorted(files.items())], name=name)
    for path in skipped:
        record.add(
            "artifact.not_fetched", Severity.INFO, "Too large to fetch; not inspected.", path
        )
    return record, uri


def register_from_mlflow(
    integration: Integration, name: str, version: str
) -> tuple[ModelVersion | None, str]:
    """Register one MLflow model version on its mapped system; the existing one if done."""
    link = RegistryVersionLink.objects.filter(
        integration=integration, registry_model=name, registry_version=version
    ).first()
    if link is not None:
        return link.model_version, "already registered"
    mapping = ModelMapping.objects.filter(integration=integration, registry_model=name).first()
    if mapping is None:
        return None, f"no AI system is mapped to registry model {name!r}"
    api = MlflowApi(integration)
    actor = actor_for(integration)
    remote = api.model_version(name, version)
    try:
        record, uri = _inspect(api, name, version)
    except InspectionError as exc:
        return None, f"the model files could not be inspected: {exc}"
    run = api.run(remote["run_id"]) if remote.get("run_id") else {}
    data = run.get("data") or {}
    tags = _pairs(data.get("tags"))
    commit = str(tags.get("mlflow.source.git.commit") or "")
    metrics = [
        {"metric": k, "value": v}
        for k, v in _pairs(data.get("metrics")).items()
        if isinstance(v, int | float)
    ]
    framework = record.framework if record.framework in Framework.values else "other"
    artifact_format = record.artifact_format
    if artifact_format not in ArtifactFormat.values:
        artifact_format = ArtifactFormat.MLFLOW
    with transaction.atomic():
        datasets = _datasets(actor, run, mapping.system.owner)
        model_version = model_version_register(
            actor=actor,
            system=mapping.system,
            datasets=datasets,
            version=str(version),
            framework=framework,
            framework_version=record.framework_version[:32],
            artifact_uri=str(remote.get("source") or uri)[:500],
            artifact_format=artifact_format,
            artifact_sha256=record.sha256,
            code_commit_sha=commit if _COMMIT.match(commit) else "",
            parameters={k: v for k, v in _pairs(data.get("params")).items()},
            evaluation=metrics,
            inference_signature=record.signature,
            artifact=record.as_dict(),
        )
        RegistryVersionLink.objects.create(
            integration=integration,
            registry_model=name,
            registry_version=str(version),
            model_version=model_version,
        )
    critical = sorted({f.code for f in record.findings if f.severity == Severity.CRITICAL})
    write_back(
        integration,
        name,
        str(version),
        {
            "status": "registered",
            "inventory": f"{mapping.system.slug}@{model_version.version}",
            "artifact_sha256": record.sha256,
            "findings": ", ".join(critical) or "none",
            "missing_metadata": ", ".join(model_version.missing_metadata) or "none",
        },
    )
    return model_version, f"registered {model_version} ({record.format}, {framework})"


def write_back(integration: Integration, name: str, version: str, tags: dict[str, str]) -> None:
    """Tags on the MLflow model version, each ``governance.<key>``; failures are raised.
    ``status`` and ``decision_id`` go last: a client that waits for them sees the rest."""
    api = MlflowApi(integration)
    last = ("status", "decision_id")
    ordered = [k for k in tags if k not in last] + [k for k in last if k in tags]
    for key in ordered:
        api.set_tag(name, version, TAG_PREFIX + key, str(tags[key]))


def _violations_text(decision: Decision, severity: str = "deny") -> str:
    return "; ".join(
        f"{v.get('code')}: {v.get('message')}"
        for v in decision.violations
        if v.get("severity") == severity
    )


def decide_alias(integration: Integration, name: str, alias: str, version: str) -> Outcome:
    mapping = AliasMapping.objects.filter(integration=integration, alias=alias).first()
    if mapping is None:
        return Outcome(DeliveryStatus.IGNORED, f"alias {alias!r} is not mapped to an environment")
    model_version, note = register_from_mlflow(integration, name, version)
    if model_version is None:
        return Outcome(DeliveryStatus.FAILED, note)
    actor = actor_for(integration)
    request = deployment_request_resolve(
        system_slug=model_version.system.slug,
        version=model_version.version,
        environment=mapping.environment,
        requester=actor.label,
        change={"registry": "mlflow", "model": name, "alias": alias, "version": version},
    )
    decision = decision_evaluate(actor=actor, endpoint="mlflow", request=request)
    denied = not decision.allow
    approvals = [a for a in decision.input.get("approvals", []) if a.get("decision") == "approve"]
    tags = {
        "status": "denied" if denied else "allowed",
        "decision_id": str(decision.decision_id),
        "environment": mapping.environment,
        "alias": alias,
        "policy_version": str(decision.policy_version or ""),
        "approvals": ", ".join(a.get("approver", "") for a in approvals) or "none",
        "violations": _violations_text(decision) or "none",
        "warnings": _violations_text(decision, "warn") or "none",
    }
    write_back(integration, name, version, tags)
    if not denied:
        return Outcome(
            DeliveryStatus.PROCESSED,
            f"alias {alias} on {name} v{version} allowed in {mapping.environment}",
            model_version,
            decision,
        )
    alias_remove(
        integration=integration,
        name=name,
        alias=alias,
        version=version,
        decision=decision,
        reason=f"Policy denied {mapping.environment}: {_violations_text(decision)}",
    )
    return Outcome(
        DeliveryStatus.PROCESSED,
        f"alias {alias} removed from {name} v{version}: {_violations_text(decision)}",
        model_version,
        decision,
    )


def alias_remove(
    *,
    integration: Integration,
    name: str,
    alias: str,
    version: str,
    reason: str,
    decision: Decision | None = None,
) -> None:
    """Take the alias off in MLflow, then record it (audit event; incident timeline when a
    kill switch was the cause)."""
    MlflowApi(integration).delete_alias(name, alias)
    with transaction.atomic():
        audit_record(
            actor=actor_for(integration),
            action="integrations.mlflow.alias_removed",
            target=Target("integrations.integration", integration.slug, integration.name),
            after={
                "model": name,
                "alias": alias,
                "version": version,
                "decision_id": str(decision.decision_id) if decision else None,
            },
            reason=reason[:2000],
        )
    if decision is not None and decision.input.get("kill_switches"):
        incident_deployment_refused(decision=decision)


def mlflow_delivery_handle(delivery: RegistryDelivery) -> Outcome:
    payload = delivery.payload if isinstance(delivery.payload, dict) else {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    name, version = str(data.get("name") or ""), str(data.get("version") or "")
    integration = delivery.integration
    if delivery.event == "model_version.created":
        if not name or not version:
            return Outcome(DeliveryStatus.FAILED, "the event names no model and version")
        model_version, note = register_from_mlflow(integration, name, version)
        if model_version is None:
            status = DeliveryStatus.IGNORED if "no AI system" in note else DeliveryStatus.FAILED
            return Outcome(status, note)
        return Outcome(DeliveryStatus.PROCESSED, note, model_version)
    if delivery.event == "model_version_alias.created":
        alias = str(data.get("alias") or "")
        if not name or not version or not alias:
            return Outcome(DeliveryStatus.FAILED, "the event names no model, version and alias")
        return decide_alias(integration, name, alias, version)
    return Outcome(DeliveryStatus.IGNORED, f"event {delivery.event} is not acted on")
