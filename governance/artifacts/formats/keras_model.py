"""Keras v3 ``.keras`` archives: ``metadata.json`` (Keras version) and ``config.json`` (the
model's layers). A ``Lambda`` layer carries marshalled Python bytecode: loading it with
``safe_mode=False`` runs that code, so it is a finding."""

from typing import Any

from governance.artifacts.archives import SafeZip
from governance.artifacts.formats.documents import load_json
from governance.artifacts.record import ArtifactRecord, InspectionError, Severity


def _layers(node: Any, out: list[dict[str, Any]], path: str, depth: int) -> None:
    if depth > 100:
        return
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str) and isinstance(node.get("config"), dict):
            out.append({"class_name": node["class_name"], "module": node.get("module"), "at": path})
        for key, value in node.items():
            _layers(value, out, f"{path}/{key}", depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _layers(value, out, f"{path}/{index}", depth + 1)


def inspect_keras(archive: SafeZip, record: ArtifactRecord) -> None:
    if "config.json" not in archive.infos:
        raise InspectionError("keras", "no config.json (not a Keras v3 archive)")
    config = load_json(archive.read("config.json"), "keras")
    metadata = {}
    if "metadata.json" in archive.infos:
        metadata = load_json(archive.read("metadata.json"), "keras")
        metadata = metadata if isinstance(metadata, dict) else {}
    layers: list[dict[str, Any]] = []
    _layers(config, layers, "", 0)
    classes = sorted({layer["class_name"] for layer in layers})
    record.framework = "tensorflow"
    record.framework_version = str(metadata.get("keras_version", ""))[:32]
    record.details.update(
        {
            "keras_version": str(metadata.get("keras_version", "")),
            "date_saved": str(metadata.get("date_saved", "")),
            "model_class": config.get("class_name") if isinstance(config, dict) else None,
            "layer_classes": classes,
            "entries": archive.names,
        }
    )
    for layer in layers:
        if layer["class_name"] == "Lambda":
            record.add(
                "keras.lambda_layer",
                Severity.CRITICAL,
                "A Lambda layer holds Python bytecode that runs when the model is loaded "
                "without safe_mode.",
                location=f"config.json{layer['at']}",
            )
