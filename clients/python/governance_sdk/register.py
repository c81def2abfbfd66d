"""``version_register``: register a model version from its artifact on disk.

The server's inspector reads the file (POST /api/v1/systems/{slug}/versions-from-artifact) and
the version is registered with what it read: nothing is parsed or trusted on this side.

A directory is not uploaded whole (weights are large; uploads are capped, 1 MiB by default):
its top-level metadata files are, the ones the inspector reads for a model directory (MLmodel,
model cards ``*.md``, spaCy's meta.json, BentoML's model.yaml / bentofile.yaml, skops'
schema.json). A directory without any is refused: pass the model file itself.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from governance_sdk.http import request_multipart

MAX_FILES = 20
_METADATA_NAMES = ("MLmodel", "meta.json", "model.yaml", "bentofile.yaml", "schema.json")


class ArtifactPathError(ValueError):
    """The path names nothing govctl can upload."""


@dataclass(frozen=True)
class Registration:
    version: dict[str, Any]
    inspection: dict[str, Any]
    sent: list[str] = field(default_factory=list)


def artifact_files(path: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) to upload for a model file or a model directory."""
    if path.is_file():
        return [(path.name, path.read_bytes())]
    if not path.exists():
        raise ArtifactPathError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise ArtifactPathError(f"{path}: not a regular file or directory")
    chosen = sorted(
        child
        for child in path.iterdir()
        if child.is_file()
        and not child.is_symlink()
        and (child.name in _METADATA_NAMES or child.suffix.lower() == ".md")
    )
    if not chosen:
        raise ArtifactPathError(
            f"{path} is a directory without MLmodel, a model card (*.md), meta.json, "
            "model.yaml, bentofile.yaml or schema.json at its top level; pass the model "
            "file itself (e.g. model.safetensors, model.onnx)"
        )
    if len(chosen) > MAX_FILES:
        raise ArtifactPathError(f"{path}: {len(chosen)} metadata files (at most {MAX_FILES})")
    return [(child.name, child.read_bytes()) for child in chosen]


def version_register(
    base_url: str,
    *,
    token: str,
    system: str,
    version: str,
    path: Path,
    artifact_uri: str = "",
    code_commit_sha: str = "",
    timeout: float = 60.0,
) -> Registration:
    """Upload the artifact and register ``version`` on ``system``. Raises ArtifactPathError for
    a path it cannot upload, GovernanceError (with ``status`` and the problem ``body``) when the
    server refuses or cannot be reached."""
    files = artifact_files(path)
    fields = {"version": version}
    if artifact_uri:
        fields["artifact_uri"] = artifact_uri
    if code_commit_sha:
        fields["code_commit_sha"] = code_commit_sha
    _, _, body = request_multipart(
        f"{base_url.rstrip('/')}/api/v1/systems/{quote(system, safe='')}/versions-from-artifact",
        token=token,
        fields=fields,
        files=[("file", name, data) for name, data in files],
        timeout=timeout,
    )
    return Registration(
        version=body["version"], inspection=body["inspection"], sent=[n for n, _ in files]
    )
