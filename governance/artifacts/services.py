"""Register a model version from an artifact: the inspector reads the files, and the facts it
read (not what a client claims) reach the inventory. One mapping from an inspection record to
version fields, shared by the web UI's pre-filled form and the API (govctl register)."""

from typing import Any

from governance.artifacts.errors import ArtifactUnreadable
from governance.artifacts.inspector import inspect_blobs, memory_blob
from governance.artifacts.record import InspectionError
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.inventory.models import AISystem, ArtifactFormat, Dataset, Framework, ModelVersion
from governance.inventory.services import model_version_register


def artifact_version_facts(record: dict[str, Any]) -> dict[str, Any]:
    """The version fields an inspection record gives: framework, format, signature, the
    numeric metrics as evaluation items, and the datasets the inventory knows by slug."""
    framework = record["framework"] if record["framework"] in Framework.values else "other"
    artifact_format = record["artifact_format"]
    if artifact_format not in ArtifactFormat.values:
        artifact_format = ArtifactFormat.MLFLOW if record["format"] == "mlmodel" else ""
    known = Dataset.objects.filter(slug__in=record["datasets"], archived_at__isnull=True)
    return {
        "framework": framework,
        "framework_version": record["framework_version"][:32],
        "artifact_format": artifact_format,
        "datasets": list(known.order_by("slug")),
        "inference_signature": record["signature"] or {},
        "evaluation": [
            {"metric": str(m["metric"])[:100], "value": m["value"]}
            for m in record["metrics"]
            if isinstance(m.get("value"), int | float) and not isinstance(m.get("value"), bool)
        ],
    }


def model_version_register_from_artifact(
    *,
    actor: Actor,
    system: AISystem,
    version: str,
    files: list[tuple[str, bytes]],
    artifact_uri: str = "",
    code_commit_sha: str = "",
    prompt_version: str = "",
) -> tuple[ModelVersion, dict[str, Any]]:
    """Inspect ``files`` (one model file, or a model directory's files by relative path) and
    register ``version`` on ``system`` with what was read; the record is kept on the version.
    409 when the version exists, 422 when the inspector cannot read the files."""
    if ModelVersion.objects.filter(system=system, version=version).exists():
        raise Conflict(
            f"{system.slug} already has a version {version!r}; register a new version name.",
            errors={"version": ["This system already has a version with that name."]},
        )
    try:
        blobs = [memory_blob(name, data) for name, data in files]
        record = inspect_blobs(blobs, name=files[0][0] if len(files) == 1 else "upload").as_dict()
    except InspectionError as exc:
        raise ArtifactUnreadable.of(exc) from None
    facts = artifact_version_facts(record)
    if not facts["artifact_format"]:
        raise ArtifactUnreadable(
            f"The inspector read a {record['format']} artifact, which is no model format the "
            "inventory records; upload the model file (or its MLmodel).",
            errors={"file": [f"{record['format']} is not a model artifact format."]},
        )
    registered = model_version_register(
        actor=actor,
        system=system,
        version=version,
        artifact_uri=artifact_uri,
        artifact_sha256=record["sha256"],
        code_commit_sha=code_commit_sha,
        prompt_version=prompt_version,
        artifact=record,
        **facts,
    )
    return registered, record
