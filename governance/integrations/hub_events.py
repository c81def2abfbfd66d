"""What a Hugging Face Hub delivery does: a push to a mapped model repository registers
``repo@commit`` as a version of its AI system, with the facts of its model card (license,
datasets, base model, model-index metrics) and its safetensors headers (read with HTTP Range
requests, never the weights). The Hub has no commit-status API, so nothing is written back:
the decision is seen in the product when the version is requested for deployment."""

from typing import Any

from django.db import transaction

from governance.artifacts.inspector import Blob, inspect_blobs, memory_blob
from governance.artifacts.record import InspectionError, Severity
from governance.core.actor import Actor
from governance.integrations.datasets import registry_dataset
from governance.integrations.hub_api import HubApi
from governance.integrations.mlflow_events import Outcome
from governance.integrations.models import (
    DeliveryStatus,
    Integration,
    ModelMapping,
    RegistryDelivery,
    RegistryVersionLink,
)
from governance.inventory.models import ArtifactFormat, Framework
from governance.inventory.services import model_version_register

MAX_WEIGHT_FILES = 20


def hub_delivery_id(payload: dict[str, Any]) -> str:
    """The Hub sends no delivery id: a push is identified by repo, commit and event."""
    repo = payload.get("repo") if isinstance(payload.get("repo"), dict) else {}
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    return f"{repo.get('name', '')}@{repo.get('headSha', '')}:{event.get('scope', '')}"


def _header_blob(path: str, head: bytes, total: int) -> Blob:
    return Blob(path, total, lambda limit: head[:limit])


def hub_delivery_handle(delivery: RegistryDelivery) -> Outcome:
    payload = delivery.payload if isinstance(delivery.payload, dict) else {}
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    repo = payload.get("repo") if isinstance(payload.get("repo"), dict) else {}
    if repo.get("type") != "model" or not str(event.get("scope", "")).startswith("repo.content"):
        return Outcome(DeliveryStatus.IGNORED, f"{event.get('scope')} on a {repo.get('type')}")
    if event.get("action") not in ("create", "update"):
        return Outcome(DeliveryStatus.IGNORED, f"action {event.get('action')} is not a push")
    name, sha = str(repo.get("name") or ""), str(repo.get("headSha") or "")
    if not name or not sha:
        return Outcome(DeliveryStatus.FAILED, "the event names no repository and commit")
    integration: Integration = delivery.integration
    mapping = ModelMapping.objects.filter(integration=integration, registry_model=name).first()
    if mapping is None:
        return Outcome(DeliveryStatus.IGNORED, f"no AI system is mapped to repository {name!r}")
    link = RegistryVersionLink.objects.filter(
        integration=integration, registry_model=name, registry_version=sha
    ).first()
    if link is not None:
        return Outcome(DeliveryStatus.IGNORED, "already registered", link.model_version)
    api = HubApi(integration)
    files = [
        str(s.get("rfilename"))
        for s in api.revision(name, sha).get("siblings") or []
        if isinstance(s, dict)
    ]
    blobs = []
    if "README.md" in files:
        blobs.append(memory_blob("README.md", api.file(name, sha, "README.md")))
    for path in [f for f in files if f.endswith(".safetensors")][:MAX_WEIGHT_FILES]:
        head, total = api.head_bytes(name, sha, path)
        blobs.append(_header_blob(path, head, total))
    if not blobs:
        return Outcome(DeliveryStatus.FAILED, "the commit has no model card or safetensors file")
    try:
        record = inspect_blobs(blobs, name=name)
    except InspectionError as exc:
        return Outcome(DeliveryStatus.FAILED, f"the files could not be inspected: {exc}")
    pickles = [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt"))]
    if pickles:
        record.add(
            "artifact.pickle_weights_not_inspected",
            Severity.WARNING,
            "Pickle-based weights in the repository were not fetched: " + ", ".join(pickles),
        )
    actor = Actor.system(f"huggingface:{integration.slug}")
    with transaction.atomic():
        datasets = [
            d
            for d in (
                registry_dataset(
                    actor=actor,
                    name=ds,
                    source=f"https://huggingface.co/datasets/{ds}",
                    owner=mapping.system.owner,
                    note=f"Named by the model card of {name}@{sha[:12]}",
                )
                for ds in record.datasets
            )
            if d is not None
        ]
        has_weights = any(p.endswith(".safetensors") for p in files)
        model_version = model_version_register(
            actor=actor,
            system=mapping.system,
            datasets=datasets,
            version=sha[:64],
            framework=record.framework if record.framework in Framework.values else "huggingface",
            framework_version=record.framework_version[:32],
            artifact_uri=f"hf://{name}@{sha}"[:500],
            artifact_format=ArtifactFormat.SAFETENSORS if has_weights else ArtifactFormat.PICKLE,
            artifact_sha256=record.sha256,
            evaluation=[m for m in record.metrics if isinstance(m.get("value"), int | float)],
            parameters={"base_model": record.base_model} if record.base_model else {},
            artifact=record.as_dict(),
        )
        RegistryVersionLink.objects.create(
            integration=integration,
            registry_model=name,
            registry_version=sha,
            model_version=model_version,
        )
    return Outcome(
        DeliveryStatus.PROCESSED, f"registered {model_version} ({record.format})", model_version
    )
