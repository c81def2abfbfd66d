"""What a Kubernetes object says to governance: the AI system and model version it names, the
fields a deployment decision depends on, and whether an UPDATE changed any of them.

Nothing here reads the database: these are pure functions of the API server's JSON.
"""

from dataclasses import dataclass
from typing import Any

LABEL_SYSTEM = "governance.ai/system"
LABEL_VERSION = "governance.ai/model-version"
LABEL_ENVIRONMENT = "governance.ai/environment"
GOVERNANCE_PREFIX = "governance.ai/"

KSERVE_GROUP = "serving.kserve.io"
# (API group, kind) of the workloads the gate judges; everything else is allowed untouched.
WORKLOAD_KINDS = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("", "Pod"),
        (KSERVE_GROUP, "InferenceService"),
    }
)
# The older per-framework predictor fields of an InferenceService (spec.predictor.<name>).
KSERVE_FRAMEWORKS = (
    "sklearn",
    "xgboost",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "lightgbm",
    "paddle",
    "pmml",
    "huggingface",
)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> dict[str, str]:
    return {k: v for k, v in as_dict(value).items() if isinstance(k, str) and isinstance(v, str)}


@dataclass(frozen=True)
class Names:
    """The governance names of an object and where they were found."""

    system: str = ""
    model_version: str = ""
    environment: str = ""
    # True when the system label is on the object's own metadata.labels: the only place a
    # webhook objectSelector can see, so the only one that scopes the webhook.
    system_labelled: bool = False

    @property
    def any(self) -> bool:
        return bool(self.system or self.model_version)


def _template_metadata(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = as_dict(obj.get("spec"))
    job_template = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    return [
        as_dict(as_dict(spec.get("template")).get("metadata")),
        as_dict(as_dict(job_template.get("template")).get("metadata")),
    ]


def _metadata_sources(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [as_dict(obj.get("metadata")), *_template_metadata(obj)]


def governance_names(obj: dict[str, Any] | None) -> Names:
    """system / model version / environment as the object names them: annotations win over
    labels, the object over its pod template."""
    obj = as_dict(obj)
    found: dict[str, str] = {}
    for key, label in (
        ("system", LABEL_SYSTEM),
        ("model_version", LABEL_VERSION),
        ("environment", LABEL_ENVIRONMENT),
    ):
        for metadata in _metadata_sources(obj):
            value = ""
            for field in ("annotations", "labels"):
                candidate = _strings(metadata.get(field)).get(label, "").strip()
                if candidate:
                    value = candidate
                    break
            if value:
                found[key] = value
                break
    labels = _strings(as_dict(obj.get("metadata")).get("labels"))
    return Names(
        system=found.get("system", ""),
        model_version=found.get("model_version", ""),
        environment=found.get("environment", ""),
        system_labelled=bool(labels.get(LABEL_SYSTEM, "").strip()),
    )


def _governance_keys(obj: dict[str, Any]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for index, metadata in enumerate(_metadata_sources(obj)):
        for field in ("annotations", "labels"):
            for key, value in _strings(metadata.get(field)).items():
                if key.startswith(GOVERNANCE_PREFIX):
                    keys[f"{index}.{field}.{key}"] = value
    return keys


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = as_dict(obj.get("spec"))
    job_template = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    return [
        spec,  # a Pod
        as_dict(as_dict(spec.get("template")).get("spec")),
        as_dict(as_dict(job_template.get("template")).get("spec")),
    ]


def container_images(obj: dict[str, Any]) -> list[str]:
    images = []
    for pod_spec in _pod_specs(obj):
        for field in ("initContainers", "containers", "ephemeralContainers"):
            containers = pod_spec.get(field)
            for container in containers if isinstance(containers, list) else []:
                image = as_dict(container).get("image")
                if isinstance(image, str):
                    images.append(f"{field}:{as_dict(container).get('name', '')}={image}")
    return sorted(images)


@dataclass(frozen=True)
class KServeModel:
    """The model an InferenceService predictor serves."""

    format: str = ""
    storage_uri: str = ""
    runtime: str = ""
    canary_traffic_percent: int | None = None


def kserve_model(obj: dict[str, Any] | None) -> KServeModel:
    predictor = as_dict(as_dict(as_dict(obj).get("spec")).get("predictor"))
    canary = predictor.get("canaryTrafficPercent")
    percent = canary if isinstance(canary, int) and not isinstance(canary, bool) else None
    model = as_dict(predictor.get("model"))
    if model:
        return KServeModel(
            format=str(as_dict(model.get("modelFormat")).get("name", "")),
            storage_uri=str(model.get("storageUri", "")),
            runtime=str(model.get("runtime", "")),
            canary_traffic_percent=percent,
        )
    for framework in KSERVE_FRAMEWORKS:
        legacy = as_dict(predictor.get(framework))
        if legacy:
            return KServeModel(
                format=framework,
                storage_uri=str(legacy.get("storageUri", "")),
                runtime=str(legacy.get("runtimeVersion", "")),
                canary_traffic_percent=percent,
            )
    return KServeModel(canary_traffic_percent=percent)


def governed_fingerprint(obj: dict[str, Any] | None) -> dict[str, Any]:
    """What a deployment decision depends on. Two objects with the same fingerprint deploy
    the same thing: status, metadata, finalizers, owner references and replicas are not in it."""
    obj = as_dict(obj)
    model = kserve_model(obj)
    return {
        "governance": _governance_keys(obj),
        "images": container_images(obj),
        "kserve": (model.format, model.storage_uri, model.runtime),
        "canary": model.canary_traffic_percent,
    }


def stops(obj: dict[str, Any] | None, old: dict[str, Any] | None) -> str:
    """Why this change only stops (or winds down) the workload, or '' when it does not.
    Stopping is always allowed: no policy, freeze or kill switch blocks it."""
    obj, old = as_dict(obj), as_dict(old)
    if as_dict(obj.get("metadata")).get("deletionTimestamp"):
        return "the object is being deleted"
    spec = as_dict(obj.get("spec"))
    if spec.get("replicas") == 0 and governed_fingerprint(obj) == governed_fingerprint(old):
        return "it scales to zero"
    if spec.get("suspend") is True and governed_fingerprint(obj) == governed_fingerprint(old):
        return "it suspends the workload"
    new_canary = kserve_model(obj).canary_traffic_percent
    old_canary = kserve_model(old).canary_traffic_percent
    if (
        new_canary is not None
        and old_canary is not None
        and new_canary < old_canary
        and {**governed_fingerprint(obj), "canary": None}
        == {**governed_fingerprint(old), "canary": None}
    ):
        return "it moves traffic away from the canary"
    return ""
