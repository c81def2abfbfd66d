"""Model files the tests write with the formats' own writers (onnx, safetensors, protobuf,
the standard library's zipfile and pickle), and adversarial ones built by hand."""

import io
import json
import pickle
import zipfile
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "artifacts"


def sample(name: str) -> Path:
    path = SAMPLES / name
    assert path.is_file(), f"missing shared sample {path} (../shared beside the repository)"
    return path


class Exploit:
    """Pickles to ``os.system(...)``; only ever scanned, never loaded."""

    def __reduce__(self):
        import os

        return (os.system, ("echo owned",))


def pickle_with_os_system(protocol: int = 4) -> bytes:
    return pickle.dumps({"model": Exploit(), "weights": [1.0, 2.0]}, protocol=protocol)


def benign_pickle() -> bytes:
    import collections

    return pickle.dumps(collections.OrderedDict(a=[1, 2], b="x"), protocol=2)


def torch_style_zip(data_pkl: bytes, *, root: str = "archive", code: bool = False) -> bytes:
    """The layout torch.save writes: <root>/data.pkl, <root>/data/0, <root>/version."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{root}/data.pkl", data_pkl)
        archive.writestr(f"{root}/data/0", b"\x00" * 64)
        archive.writestr(f"{root}/version", "3\n")
        if code:
            archive.writestr(f"{root}/code/__torch__.py", "def forward(self, x): return x\n")
    return buffer.getvalue()


def keras_archive(*, with_lambda: bool) -> bytes:
    layers = [
        {
            "module": "keras.layers",
            "class_name": "InputLayer",
            "config": {"batch_shape": [None, 4]},
        },
        {"module": "keras.layers", "class_name": "Dense", "config": {"units": 8}},
    ]
    if with_lambda:
        layers.append(
            {
                "module": "keras.layers",
                "class_name": "Lambda",
                "config": {
                    "function": {"class_name": "__lambda__", "config": {"code": "4wEAAA=="}}
                },
            }
        )
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": layers}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "x"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 32)
    return buffer.getvalue()


def onnx_model() -> bytes:
    import onnx
    from onnx import TensorProto, helper

    weight = helper.make_tensor("W", TensorProto.FLOAT, [4, 3], [0.1] * 12)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "scorer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[weight],
    )
    model = helper.make_model(
        graph,
        producer_name="skl2onnx",
        producer_version="1.17.0",
        opset_imports=[helper.make_opsetid("", 17)],
    )
    helper.set_model_props(model, {"author": "ml-team", "license": "apache-2.0"})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def safetensors_file(metadata: dict[str, str] | None = None) -> bytes:
    import numpy as np  # onnx's dependency; safetensors.numpy writes through it
    from safetensors.numpy import save

    tensors = {
        "embed.weight": np.zeros((10, 4), dtype=np.float32),
        "head.bias": np.ones(3, dtype=np.float16),
    }
    return save(tensors, metadata=metadata)


def saved_model_pb() -> bytes:
    """A SavedModel proto written by protobuf from the schema's field numbers
    (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FileDescriptorProto(name="sm_test.proto", package="tftest")
    t = descriptor_pb2.FieldDescriptorProto

    def msg(name, *fields):
        m = f.message_type.add(name=name)
        for number, fname, ftype, label, type_name in fields:
            field = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                field.type_name = f".tftest.{type_name}"
        return m

    opt, rep = t.LABEL_OPTIONAL, t.LABEL_REPEATED
    msg("Dim", (1, "size", t.TYPE_INT64, opt, None), (2, "name", t.TYPE_STRING, opt, None))
    msg(
        "Shape", (2, "dim", t.TYPE_MESSAGE, rep, "Dim"), (3, "unknown_rank", t.TYPE_BOOL, opt, None)
    )
    msg(
        "TensorInfo",
        (1, "name", t.TYPE_STRING, opt, None),
        (2, "dtype", t.TYPE_ENUM if False else t.TYPE_INT32, opt, None),
        (3, "tensor_shape", t.TYPE_MESSAGE, opt, "Shape"),
    )
    msg(
        "TensorEntry",
        (1, "key", t.TYPE_STRING, opt, None),
        (2, "value", t.TYPE_MESSAGE, opt, "TensorInfo"),
    )
    msg(
        "SignatureDef",
        (1, "inputs", t.TYPE_MESSAGE, rep, "TensorEntry"),
        (2, "outputs", t.TYPE_MESSAGE, rep, "TensorEntry"),
        (3, "method_name", t.TYPE_STRING, opt, None),
    )
    msg(
        "SigEntry",
        (1, "key", t.TYPE_STRING, opt, None),
        (2, "value", t.TYPE_MESSAGE, opt, "SignatureDef"),
    )
    msg(
        "MetaInfoDef",
        (1, "meta_graph_version", t.TYPE_STRING, opt, None),
        (4, "tags", t.TYPE_STRING, rep, None),
        (5, "tensorflow_version", t.TYPE_STRING, opt, None),
        (6, "tensorflow_git_version", t.TYPE_STRING, opt, None),
    )
    msg(
        "MetaGraphDef",
        (1, "meta_info_def", t.TYPE_MESSAGE, opt, "MetaInfoDef"),
        (5, "signature_def", t.TYPE_MESSAGE, rep, "SigEntry"),
    )
    msg(
        "SavedModel",
        (1, "saved_model_schema_version", t.TYPE_INT64, opt, None),
        (2, "meta_graphs", t.TYPE_MESSAGE, rep, "MetaGraphDef"),
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    classes = message_factory.GetMessages([f], pool=pool)
    saved = classes["tftest.SavedModel"](saved_model_schema_version=1)
    graph = saved.meta_graphs.add()
    graph.meta_info_def.tags.append("serve")
    graph.meta_info_def.tensorflow_version = "2.16.1"
    sig = graph.signature_def.add(key="serving_default").value
    sig.method_name = "tensorflow/serving/predict"
    x = sig.inputs.add(key="features").value
    x.name, x.dtype = "serving_default_features:0", 1
    x.tensor_shape.dim.add(size=-1)
    x.tensor_shape.dim.add(size=4)
    y = sig.outputs.add(key="score").value
    y.name, y.dtype = "StatefulPartitionedCall:0", 1
    return saved.SerializeToString()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\x00" * (16 * 1024 * 1024))
    return buffer.getvalue()


def traversal_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", benign_pickle())
        archive.writestr("../../etc/cron.d/evil", b"* * * * * root sh\n")
    return buffer.getvalue()
