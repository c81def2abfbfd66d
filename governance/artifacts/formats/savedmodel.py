"""TensorFlow SavedModel (``saved_model.pb``): tags, signature defs and the TensorFlow version
of each meta graph. Field numbers from tensorflow/core/protobuf/{saved_model,meta_graph}.proto."""

from governance.artifacts.formats.protobuf import Message
from governance.artifacts.record import ArtifactRecord, InspectionError

# tensorflow/core/framework/types.proto DataType
DTYPES = {
    1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
    8: "complex64", 9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16", 19: "float16",
    22: "uint32", 23: "uint64",
}  # fmt: skip


def _tensor_info(name: str, info: Message) -> dict:
    out: dict = {"name": name, "tensor": info.string(1), "dtype": DTYPES.get(info.int(2), "")}
    shape = info.message(3)
    if shape is not None:
        out["shape"] = None if shape.int(3) else [d.int(1) for d in shape.messages(2)]
    return out


def _map(message: Message, number: int) -> dict[str, Message]:
    out = {}
    for entry in message.messages(number):
        value = entry.message(2)
        if value is not None:
            out[entry.string(1)] = value
    return out


def inspect_savedmodel(data: bytes, record: ArtifactRecord) -> None:
    saved = Message(data, fmt="savedmodel")
    graphs = saved.messages(2)
    if not graphs:
        raise InspectionError("savedmodel", "no meta graphs (not a SavedModel)", offset=0)
    meta_graphs = []
    signature: dict = {}
    for graph in graphs:
        info = graph.message(1)
        tags = info.strings(4) if info else []
        tf_version = info.string(5) if info else ""
        signatures = {}
        for key, sig in _map(graph, 5).items():
            signatures[key] = {
                "method_name": sig.string(3),
                "inputs": [_tensor_info(n, t) for n, t in sorted(_map(sig, 1).items())],
                "outputs": [_tensor_info(n, t) for n, t in sorted(_map(sig, 2).items())],
            }
        meta_graphs.append(
            {"tags": tags, "tensorflow_version": tf_version, "signature_defs": signatures}
        )
        if tf_version and not record.framework_version:
            record.framework_version = tf_version[:32]
        serving = signatures.get("serving_default")
        if serving and not signature:
            signature = {"inputs": serving["inputs"], "outputs": serving["outputs"]}
    record.framework = "tensorflow"
    record.signature = signature
    record.details.update({"saved_model_schema_version": saved.int(1), "meta_graphs": meta_graphs})
