"""ONNX ModelProto: IR version, opsets, producer, metadata_props, graph inputs and outputs,
initializer parameter count. Field numbers from onnx/onnx.proto."""

import math

from governance.artifacts.formats.protobuf import Message
from governance.artifacts.record import ArtifactRecord, InspectionError, Severity

# TensorProto.DataType
ELEM_TYPES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "string", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    14: "complex64", 15: "complex128", 16: "bfloat16",
}  # fmt: skip
PRODUCER_FRAMEWORKS = {
    "pytorch": "pytorch", "tf2onnx": "tensorflow", "keras2onnx": "tensorflow",
    "skl2onnx": "sklearn", "onnxmltools": "xgboost", "spark-onnx": "spark-mllib",
}  # fmt: skip


def _value_info(info: Message) -> dict:
    out: dict = {"name": info.string(1)}
    type_proto = info.message(2)
    tensor = type_proto.message(1) if type_proto else None
    if tensor is not None:
        out["dtype"] = ELEM_TYPES.get(tensor.int(1), str(tensor.int(1)))
        shape = tensor.message(2)
        if shape is not None:
            out["shape"] = [
                dim.string(2) or (dim.int(1) if 1 in dim.fields else None)
                for dim in shape.messages(1)
            ]
    return out


def inspect_onnx(data: bytes, record: ArtifactRecord) -> None:
    model = Message(data, fmt="onnx")
    graph = model.message(7)
    if 1 not in model.fields or graph is None:
        missing = "no ir_version" if 1 not in model.fields else "no graph"
        raise InspectionError("onnx", f"not an ONNX ModelProto ({missing})", offset=0)
    opsets = {}
    for opset in model.messages(8):
        opsets[opset.string(1) or "ai.onnx"] = opset.int(2)
    metadata = {}
    for prop in model.messages(14):
        metadata[prop.string(1)] = prop.string(2)
    initializers = graph.messages(5)
    names = {init.string(8) for init in initializers}
    parameters = 0
    external = 0
    for init in initializers:
        parameters += math.prod(init.ints(1)) if init.ints(1) else 1
        if init.int(14) == 1:  # DataLocation.EXTERNAL
            external += 1
    inputs = [_value_info(v) for v in graph.messages(11) if v.string(1) not in names]
    producer = model.string(2)
    record.framework = PRODUCER_FRAMEWORKS.get(producer.lower(), "other")
    record.framework_version = model.string(3)[:32]
    record.signature = {"inputs": inputs, "outputs": [_value_info(v) for v in graph.messages(12)]}
    record.sizes["parameters"] = parameters
    record.details.update(
        {
            "ir_version": model.int(1),
            "opset_import": opsets,
            "producer_name": producer,
            "producer_version": model.string(3),
            "domain": model.string(4),
            "model_version": model.int(5),
            "graph_name": graph.string(2),
            "nodes": len(graph.messages(1)),
            "op_types": sorted({node.string(4) for node in graph.messages(1)}),
            "metadata_props": metadata,
        }
    )
    custom = sorted({d for d in opsets if d not in ("", "ai.onnx", "ai.onnx.ml")})
    if custom:
        record.add(
            "onnx.custom_domain",
            Severity.WARNING,
            f"Operators from custom domains need their own runtime code: {', '.join(custom)}.",
        )
    if external:
        record.add(
            "onnx.external_data",
            Severity.INFO,
            f"{external} initializer(s) keep their weights in external files (not inspected).",
        )
