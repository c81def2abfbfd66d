"""The inspector on real files (../shared/samples/artifacts), on files the formats' own writers
produce, and on adversarial files: facts, findings, hashes and clear errors."""

import hashlib
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from governance.artifacts.inspector import artifact_inspect_bytes, artifact_inspect_path
from governance.artifacts.record import InspectionError
from tests.artifacts import builders
from tests.artifacts.builders import sample

REPO = Path(__file__).resolve().parents[2]


def codes(record) -> set[str]:
    return {f.code for f in record.findings}


def test_real_safetensors_header_is_read():
    path = sample("d.safetensors")
    record = artifact_inspect_path(path=path)
    assert record.format == "safetensors"
    assert record.sizes["parameters"] == 6
    assert record.details["dtypes"] == {"F64": 1}
    assert record.details["metadata"] == {"test": "a"}
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_mlmodel_flavors_signature_and_run():
    record = artifact_inspect_path(path=sample("langchain-mlflow-2.12.MLmodel"))
    assert record.format == "mlmodel"
    assert record.artifact_format == "mlflow"
    assert record.run_id == "84552a129bfb45faa87f5fb3f05eb9cf"
    assert record.details["mlflow_version"] == "2.12.2"
    assert record.details["flavors"]["langchain"]["version"] == "0.1.20"
    assert record.details["flavors"]["python_function"]["loader_module"] == "mlflow.langchain"
    assert record.signature["inputs"][0]["name"] == "messages"
    assert record.details["input_example"]["artifact_path"] == "input_example.json"


def test_real_spark_metadata():
    record = artifact_inspect_path(
        path=sample("spark-rformula-2.4.4.stages.0_strIdx.metadata.part-00000")
    )
    assert (record.format, record.framework, record.framework_version) == (
        "spark-mllib",
        "spark-mllib",
        "2.4.4",
    )
    assert record.details["class"] == "org.apache.spark.ml.feature.StringIndexerModel"
    assert record.details["params"]["inputCol"] == "a"


def test_real_torch_zip_is_scanned_not_loaded():
    record = artifact_inspect_path(path=sample("torch-save-zip-state-dict.picklescan.bin"))
    assert record.format == "pytorch"
    assert record.framework == "pytorch"
    scan = record.details["pickles"]
    assert any("collections.OrderedDict" in s["globals"] for s in scan.values())
    assert "pickle.dangerous_global" not in codes(record)


def test_real_joblib_skips_numpy_arrays_and_finds_sklearn():
    record = artifact_inspect_path(path=sample("kserve-sklearn-svc.model.joblib"))
    scan = next(iter(record.details["pickles"].values()))
    assert "sklearn.svm._classes.SVC" in scan["globals"]
    assert scan["joblib_arrays"] > 0  # the raw array bytes were stepped over, to the end
    assert record.framework == "sklearn"
    assert "pickle.dangerous_global" not in codes(record)


def test_real_model_card_license_datasets_and_invalid_model_index():
    record = artifact_inspect_path(path=sample("hf-card.invalid-model-index.README.md"))
    assert record.license == "mit"
    assert record.datasets == ["beans"]
    assert record.metrics == []  # the result names no dataset: ignored, and said so
    assert "model_card.invalid_model_index" in codes(record)
    assert record.details["library_name"] == "timm"


def test_real_bentofile_lists_models():
    record = artifact_inspect_path(path=sample("bentoml.bento_with_models.bentofile.yaml"))
    assert record.details["kind"] == "bento"
    assert record.details["models"] == ["testmodel", "anothermodel"]


def test_a_kubernetes_manifest_is_not_a_model():
    with pytest.raises(InspectionError, match="not a model format"):
        artifact_inspect_path(path=sample("kserve-inferenceservice.canary.yaml"))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_os_system_pickle_is_a_critical_finding(protocol):
    record = artifact_inspect_bytes(name="model.pkl", data=builders.pickle_with_os_system(protocol))
    dangerous = [f for f in record.findings if f.code == "pickle.dangerous_global"]
    assert dangerous and dangerous[0].severity == "critical"
    assert "system" in dangerous[0].message


def test_benign_pickle_has_no_dangerous_finding():
    record = artifact_inspect_bytes(name="m.pkl", data=builders.benign_pickle())
    assert "pickle.dangerous_global" not in codes(record)
    assert "collections.OrderedDict" in next(iter(record.details["pickles"].values()))["globals"]


def test_stack_global_through_memo_is_resolved():
    # builtins.eval named by memoised strings (BINGET), as a crafted file would do.
    data = b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94h\x00h\x01\x93\x8c\x031+1\x85R."
    record = artifact_inspect_bytes(name="x.pkl", data=data)
    assert "builtins.eval" in record.details["pickles"]["x.pkl"]["dangerous_globals"]


def test_torch_zip_with_exploit_and_torchscript_layout():
    evil = builders.torch_style_zip(builders.pickle_with_os_system())
    assert "pickle.dangerous_global" in codes(artifact_inspect_bytes(name="m.pt", data=evil))
    scripted = builders.torch_style_zip(builders.benign_pickle(), code=True)
    record = artifact_inspect_bytes(name="m.pt", data=scripted)
    assert (record.format, record.artifact_format) == ("torchscript", "torchscript")


def test_onnx_written_by_onnx():
    record = artifact_inspect_bytes(name="scorer.onnx", data=builders.onnx_model())
    assert record.format == "onnx"
    assert record.framework == "sklearn"  # producer skl2onnx
    assert record.details["opset_import"] == {"ai.onnx": 17}
    assert record.details["metadata_props"] == {"author": "ml-team", "license": "apache-2.0"}
    assert record.details["ir_version"] > 0
    assert record.signature["inputs"] == [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}]
    assert record.signature["outputs"][0]["shape"] == ["batch", 3]
    assert record.sizes["parameters"] == 12


def test_safetensors_written_by_safetensors():
    data = builders.safetensors_file({"format": "pt", "base": "bert"})
    record = artifact_inspect_bytes(name="model.safetensors", data=data)
    assert record.sizes["parameters"] == 43
    assert record.framework == "pytorch"
    assert record.details["metadata"] == {"format": "pt", "base": "bert"}
    assert record.details["tensor_shapes"]["embed.weight"] == {"dtype": "F32", "shape": [10, 4]}


def test_savedmodel_tags_signatures_and_version():
    record = artifact_inspect_bytes(name="saved_model.pb", data=builders.saved_model_pb())
    assert record.framework_version == "2.16.1"
    graph = record.details["meta_graphs"][0]
    assert graph["tags"] == ["serve"]
    assert record.signature["inputs"][0] == {
        "name": "features",
        "tensor": "serving_default_features:0",
        "dtype": "float32",
        "shape": [-1, 4],
    }


def test_keras_lambda_layer_is_flagged_and_plain_keras_is_not():
    flagged = artifact_inspect_bytes(name="m.keras", data=builders.keras_archive(with_lambda=True))
    assert "keras.lambda_layer" in codes(flagged)
    assert flagged.framework_version == "3.6.0"
    plain = artifact_inspect_bytes(name="m.keras", data=builders.keras_archive(with_lambda=False))
    assert "keras.lambda_layer" not in codes(plain)
    assert "Dense" in plain.details["layer_classes"]


def test_mlflow_directory_with_a_pickled_model(tmp_path):
    (tmp_path / "MLmodel").write_text(
        textwrap.dedent(
            """\
            artifact_path: model
            flavors:
              python_function:
                loader_module: mlflow.sklearn
                model_path: model.pkl
                python_version: 3.11.9
              sklearn:
                pickled_model: model.pkl
                serialization_format: cloudpickle
                sklearn_version: 1.5.2
            mlflow_version: 3.1.0
            run_id: 0123456789abcdef
            signature:
              inputs: '[{"type": "double", "name": "x", "required": true}]'
              outputs: '[{"type": "long", "required": true}]'
            """
        )
    )
    (tmp_path / "model.pkl").write_bytes(builders.pickle_with_os_system())
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.5.2\n")
    record = artifact_inspect_path(path=tmp_path)
    assert (record.format, record.framework, record.framework_version) == (
        "mlmodel",
        "sklearn",
        "1.5.2",
    )
    assert record.signature["inputs"][0]["name"] == "x"
    assert {"pickle.dangerous_global", "mlflow.pickled_flavor"} <= codes(record)
    finding = next(f for f in record.findings if f.code == "pickle.dangerous_global")
    assert finding.location == "model.pkl"
    manifest = "".join(
        f"{hashlib.sha256((tmp_path / p).read_bytes()).hexdigest()}  {p}\n"
        for p in sorted(["MLmodel", "model.pkl", "requirements.txt"])
    )
    assert record.sha256 == hashlib.sha256(manifest.encode()).hexdigest()


@pytest.mark.parametrize(
    ("name", "data", "fmt", "message"),
    [
        ("m.pkl", builders.benign_pickle()[:-3], "pickle", "truncated"),
        ("m.pkl", b"\x80\x04\xff", "pickle", "unknown opcode"),
        ("m.pkl", b"", "pickle", "empty"),
        ("m.safetensors", (10**9).to_bytes(8, "little") + b"{}", "safetensors", "header length"),
        ("m.safetensors", (5).to_bytes(8, "little") + b"{oops", "safetensors", "not JSON"),
        ("m.safetensors", b"\x01\x00", "safetensors", "truncated"),
        ("MLmodel", b"flavors: [unclosed", "mlmodel", "invalid YAML"),
        ("m.onnx", b"\x08\x07\x3a\xff\xff\x03", "onnx", "past the end"),
        ("m.pt", builders.zip_bomb(), "zip", "zip bomb"),
        ("m.pt", builders.traversal_zip(), "zip", "path traversal"),
        ("m.keras", b"PK\x03\x04garbage", "keras", "zip"),
        ("meta.json", b"[" * 100_000, "spacy", "JSON"),
    ],
)
def test_malformed_files_are_clear_errors(name, data, fmt, message):
    with pytest.raises(InspectionError) as caught:
        artifact_inspect_bytes(name=name, data=data)
    assert caught.value.format == fmt
    assert message in str(caught.value)


def test_error_names_the_offset():
    data = builders.benign_pickle()
    with pytest.raises(InspectionError) as caught:
        artifact_inspect_bytes(name="m.pkl", data=data[:-3])
    assert caught.value.offset is not None and 0 < caught.value.offset <= len(data)


def test_unsafe_zip_entries_are_never_written_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InspectionError):
        artifact_inspect_bytes(name="m.pt", data=builders.traversal_zip())
    assert list(tmp_path.iterdir()) == []


def test_no_framework_is_imported_and_nothing_is_unpickled(tmp_path):
    """In a fresh interpreter: block the frameworks and every unpickling entry point, inspect
    every kind of file, and check sys.modules afterwards."""
    files = {
        "m.pkl": builders.pickle_with_os_system(),
        "m.pt": builders.torch_style_zip(builders.pickle_with_os_system()),
        "m.keras": builders.keras_archive(with_lambda=True),
        "m.onnx": builders.onnx_model(),
        "m.safetensors": builders.safetensors_file({"format": "pt"}),
        "saved_model.pb": builders.saved_model_pb(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    script = textwrap.dedent(
        f"""
        import importlib.abc, json, pickle, sys
        from pathlib import Path
        BLOCKED = ("torch", "tensorflow", "keras", "sklearn", "onnxruntime", "onnx", "joblib",
                   "numpy", "safetensors", "dill")
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        def refuse(*a, **k):
            raise AssertionError("something tried to unpickle")
        pickle.loads = pickle.load = refuse
        pickle.Unpickler = refuse
        import _pickle
        _pickle.loads = _pickle.load = refuse
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.test")
        from governance.artifacts.inspector import artifact_inspect_path
        out = {{}}
        for path in sorted(Path({str(tmp_path)!r}).iterdir()):
            out[path.name] = [f.code for f in artifact_inspect_path(path=path).findings]
        for sample in sorted(Path({str(builders.SAMPLES)!r}).glob("*")):
            try:
                artifact_inspect_path(path=sample)
            except Exception as exc:
                assert type(exc).__name__ == "InspectionError", exc
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print(json.dumps({{"findings": out, "loaded": loaded}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["loaded"] == []
    assert "pickle.dangerous_global" in result["findings"]["m.pkl"]
    assert "keras.lambda_layer" in result["findings"]["m.keras"]
    assert not (tmp_path / "owned").exists()


def test_pickle_protocols_round_trip_sanity():
    # The exploit builder really pickles os.system (the scanner is judged on a real payload).
    data = builders.pickle_with_os_system()
    assert b"system" in data and pickle.PROTO[0] == data[0]
