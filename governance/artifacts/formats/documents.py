"""Formats whose facts are a JSON or YAML document: MLflow MLmodel, spaCy meta.json, Spark
MLlib metadata, BentoML model.yaml / bentofile.yaml, skops schema.json, Hugging Face cards."""

import json
from typing import Any

import yaml

from governance.artifacts.record import ArtifactRecord, InspectionError, Severity

# MLflow flavor -> the inventory's framework choice.
FLAVOR_FRAMEWORKS = {
    "sklearn": "sklearn", "pytorch": "pytorch", "tensorflow": "tensorflow", "keras": "tensorflow",
    "transformers": "huggingface", "sentence_transformers": "huggingface", "xgboost": "xgboost",
    "lightgbm": "xgboost", "catboost": "xgboost", "spark": "spark-mllib", "openai": "llm-provider",
    "onnx": "other", "langchain": "other", "spacy": "other", "statsmodels": "other",
    "prophet": "other", "h2o": "other", "paddle": "other", "pmdarima": "other",
}  # fmt: skip
VERSION_KEYS = (
    "sklearn_version", "pytorch_version", "keras_version", "tensorflow_version",
    "transformers_version", "xgb_version", "lgb_version", "langchain_version", "spacy_version",
    "spark_version", "openai_version", "onnx_version",
)  # fmt: skip


def load_yaml(data: bytes, fmt: str) -> Any:
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InspectionError(fmt, "not UTF-8 text", offset=exc.start) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        offset = mark.index if mark else None
        raise InspectionError(fmt, f"invalid YAML{where}", offset=offset) from None


def load_json(data: bytes, fmt: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InspectionError(fmt, "not UTF-8 text", offset=exc.start) from None
    except json.JSONDecodeError as exc:
        raise InspectionError(fmt, f"invalid JSON ({exc.msg})", offset=exc.pos) from None
    except RecursionError:
        raise InspectionError(fmt, "JSON nested too deeply") from None


def _object(value: Any, fmt: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InspectionError(fmt, f"the document is a {type(value).__name__}, not a mapping")
    return value


def _schema(value: Any) -> list[Any]:
    """MLflow stores each signature side as a JSON string inside the YAML."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    return value if isinstance(value, list) else []


def inspect_mlmodel(data: bytes, record: ArtifactRecord) -> None:
    doc = _object(load_yaml(data, "mlmodel"), "mlmodel")
    flavors = doc.get("flavors")
    if not isinstance(flavors, dict) or not flavors:
        raise InspectionError("mlmodel", "no flavors (not an MLflow MLmodel)")
    flavor_facts = {}
    for name, facts in flavors.items():
        facts = facts if isinstance(facts, dict) else {}
        version = next((str(facts[k]) for k in VERSION_KEYS if facts.get(k)), "")
        flavor_facts[str(name)] = {"version": version}
        if name == "python_function":
            flavor_facts[name].update(
                {"loader_module": facts.get("loader_module"), "python": facts.get("python_version")}
            )
    native = [f for f in flavor_facts if f != "python_function"]
    if native:
        record.framework = FLAVOR_FRAMEWORKS.get(native[0], "other")
        record.framework_version = flavor_facts[native[0]]["version"][:32]
    signature = doc.get("signature") if isinstance(doc.get("signature"), dict) else {}
    if signature:
        record.signature = {
            "inputs": _schema(signature.get("inputs")),
            "outputs": _schema(signature.get("outputs")),
            "params": _schema(signature.get("params")),
        }
    example = doc.get("saved_input_example_info")
    record.run_id = str(doc.get("run_id") or "")
    if isinstance(doc.get("model_size_bytes"), int):
        record.sizes["model_bytes"] = doc["model_size_bytes"]
    record.details.update(
        {
            "flavors": flavor_facts,
            "mlflow_version": str(doc.get("mlflow_version") or ""),
            "model_uuid": str(doc.get("model_uuid") or ""),
            "artifact_path": str(doc.get("artifact_path") or ""),
            "utc_time_created": str(doc.get("utc_time_created") or ""),
            "input_example": example if isinstance(example, dict) else None,
        }
    )
    pickled = [
        f"{name}: {facts.get('pickled_model') or facts.get('model_data')}"
        for name, facts in flavors.items()
        if isinstance(facts, dict)
        and facts.get("serialization_format") in ("pickle", "cloudpickle")
    ]
    if pickled:
        record.add(
            "mlflow.pickled_flavor",
            Severity.WARNING,
            "The model is stored as a pickle: " + "; ".join(pickled),
        )
    if not signature:
        record.add("mlflow.no_signature", Severity.INFO, "The MLmodel has no signature.")


def inspect_spacy_meta(data: bytes, record: ArtifactRecord) -> None:
    doc = _object(load_json(data, "spacy"), "spacy")
    if "pipeline" not in doc or "lang" not in doc:
        raise InspectionError("spacy", "no lang or pipeline (not a spaCy meta.json)")
    record.framework = "other"
    record.framework_version = str(doc.get("spacy_version", ""))[:32]
    record.license = str(doc.get("license", ""))
    sources = doc.get("sources") if isinstance(doc.get("sources"), list) else []
    record.datasets = [str(s.get("name", s)) if isinstance(s, dict) else str(s) for s in sources]
    performance = doc.get("performance") if isinstance(doc.get("performance"), dict) else {}
    record.metrics = [
        {"metric": str(k), "value": v}
        for k, v in performance.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    record.details.update(
        {
            "name": f"{doc.get('lang')}_{doc.get('name', '')}",
            "version": str(doc.get("version", "")),
            "pipeline": [str(p) for p in doc.get("pipeline") or []],
            "spacy_version": str(doc.get("spacy_version", "")),
        }
    )


def inspect_spark_metadata(data: bytes, record: ArtifactRecord) -> None:
    # Spark writes one JSON object per line; the model's is the first.
    first = data.split(b"\n", 1)[0]
    doc = _object(load_json(first, "spark-mllib"), "spark-mllib")
    if "class" not in doc or "sparkVersion" not in doc:
        raise InspectionError("spark-mllib", "no class or sparkVersion (not Spark ML metadata)")
    record.framework = "spark-mllib"
    record.framework_version = str(doc["sparkVersion"])[:32]
    record.details.update(
        {
            "class": str(doc["class"]),
            "uid": str(doc.get("uid", "")),
            "spark_version": str(doc["sparkVersion"]),
            "params": doc.get("paramMap") if isinstance(doc.get("paramMap"), dict) else {},
            "default_params": doc.get("defaultParamMap")
            if isinstance(doc.get("defaultParamMap"), dict)
            else {},
        }
    )


def inspect_bentoml(data: bytes, record: ArtifactRecord) -> None:
    doc = _object(load_yaml(data, "bentoml"), "bentoml")
    context = doc.get("context") if isinstance(doc.get("context"), dict) else {}
    if "module" in doc or context:  # a model store entry's model.yaml
        framework = str(context.get("framework_name", ""))
        versions = context.get("framework_versions") or {}
        record.framework = FLAVOR_FRAMEWORKS.get(framework, "other")
        if isinstance(versions, dict) and versions:
            record.framework_version = str(next(iter(versions.values())))[:32]
        signatures = doc.get("signatures") if isinstance(doc.get("signatures"), dict) else {}
        record.details.update(
            {
                "kind": "model",
                "name": str(doc.get("name", "")),
                "version": str(doc.get("version", "")),
                "module": str(doc.get("module", "")),
                "bentoml_version": str(context.get("bentoml_version", "")),
                "labels": doc.get("labels") if isinstance(doc.get("labels"), dict) else {},
                "signatures": sorted(str(s) for s in signatures),
            }
        )
    elif "service" in doc:  # a bentofile.yaml: the service and the models it packs
        models = []
        for entry in doc.get("models") or []:
            if isinstance(entry, dict):
                models.append(str(entry.get("tag", "")))
            else:
                models.append(str(entry))
        record.details.update({"kind": "bento", "service": str(doc["service"]), "models": models})
    else:
        raise InspectionError("bentoml", "neither a model.yaml nor a bentofile.yaml")


def inspect_skops_schema(data: bytes, record: ArtifactRecord) -> None:
    doc = _object(load_json(data, "skops"), "skops")
    if "protocol" not in doc or "__class__" not in doc:
        raise InspectionError("skops", "no protocol or __class__ (not a skops schema.json)")
    record.framework = "sklearn"
    types: set[str] = set()
    _skops_types(doc, types, 0)
    record.details.update(
        {
            "protocol": doc.get("protocol"),
            "class": f"{doc.get('__module__', '')}.{doc.get('__class__', '')}",
            "types": sorted(types),
        }
    )


def _skops_types(node: Any, out: set[str], depth: int) -> None:
    if depth > 200:
        return
    if isinstance(node, dict):
        if isinstance(node.get("__class__"), str):
            out.add(f"{node.get('__module__', '')}.{node['__class__']}")
        for value in node.values():
            _skops_types(value, out, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _skops_types(value, out, depth + 1)


def _front_matter(text: str) -> str | None:
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    return text[3:end] if end != -1 else None


def inspect_model_card(data: bytes, record: ArtifactRecord) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InspectionError("model-card", "not UTF-8 text", offset=exc.start) from None
    header = _front_matter(text.lstrip("\ufeff"))
    if header is None:
        raise InspectionError("model-card", "no YAML front matter (--- ... ---)", offset=0)
    meta = load_yaml(header.encode(), "model-card") or {}
    meta = _object(meta, "model-card")
    record.framework = "huggingface"
    license_ = meta.get("license")
    record.license = ", ".join(license_) if isinstance(license_, list) else str(license_ or "")
    datasets = meta.get("datasets") or []
    record.datasets = [str(d) for d in (datasets if isinstance(datasets, list) else [datasets])]
    base = meta.get("base_model") or ""
    record.base_model = ", ".join(map(str, base)) if isinstance(base, list) else str(base)
    metrics = []
    invalid = 0
    for entry in meta.get("model-index") or []:
        for result in (entry or {}).get("results") or [] if isinstance(entry, dict) else []:
            if not isinstance(result, dict):
                continue
            dataset = result.get("dataset") if isinstance(result.get("dataset"), dict) else None
            if dataset is None:
                invalid += 1  # the Hub rejects a result without a dataset; so do we
                continue
            for metric in result.get("metrics") or []:
                if isinstance(metric, dict) and isinstance(metric.get("value"), int | float):
                    metrics.append(
                        {
                            "metric": str(metric.get("type") or metric.get("name")),
                            "value": metric["value"],
                            "dataset": str(dataset.get("name") or dataset.get("type") or ""),
                        }
                    )
    record.metrics = metrics
    record.details.update(
        {
            "library_name": str(meta.get("library_name") or ""),
            "pipeline_tag": str(meta.get("pipeline_tag") or ""),
            "language": meta.get("language"),
            "tags": [str(t) for t in meta.get("tags") or []]
            if isinstance(meta.get("tags"), list)
            else [],
        }
    )
    if invalid:
        record.add(
            "model_card.invalid_model_index",
            Severity.WARNING,
            f"{invalid} model-index result(s) name no dataset; their metrics are ignored.",
        )
    if not record.license:
        record.add("model_card.no_license", Severity.WARNING, "The model card names no license.")
