"""safetensors: an 8-byte little-endian header length, a JSON header of tensors (dtype, shape,
data_offsets) and ``__metadata__``, then raw bytes. Only the header is parsed."""

import json
import math
from typing import Any

from governance.artifacts.record import MAX_METADATA_BYTES, ArtifactRecord, InspectionError

DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
    "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
}  # fmt: skip


def safetensors_header(head: bytes, total_size: int) -> tuple[dict[str, Any], int]:
    """The parsed header and its length, from the first bytes of the file."""
    if len(head) < 8:
        raise InspectionError("safetensors", "truncated: no 8-byte header length", offset=0)
    length = int.from_bytes(head[:8], "little")
    if length > MAX_METADATA_BYTES or 8 + length > total_size:
        raise InspectionError(
            "safetensors", f"header length {length} is past the end or too large", offset=0
        )
    raw = head[8 : 8 + length]
    if len(raw) < length:
        raise InspectionError("safetensors", "truncated header", offset=8 + len(raw))
    try:
        header = json.loads(raw.decode("utf-8").rstrip(" "))
    except UnicodeDecodeError as exc:
        raise InspectionError("safetensors", "header is not UTF-8", offset=8 + exc.start) from None
    except json.JSONDecodeError as exc:
        raise InspectionError(
            "safetensors", f"header is not JSON ({exc.msg})", offset=8 + exc.pos
        ) from None
    if not isinstance(header, dict):
        raise InspectionError("safetensors", "header is not a JSON object", offset=8)
    return header, length


def inspect_safetensors(head: bytes, total_size: int, record: ArtifactRecord) -> None:
    header, length = safetensors_header(head, total_size)
    data_size = total_size - 8 - length
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise InspectionError("safetensors", "__metadata__ is not an object", offset=8)
    dtypes: dict[str, int] = {}
    parameters = 0
    tensors = {}
    for name, info in header.items():
        if not isinstance(info, dict):
            raise InspectionError("safetensors", f"tensor {name!r} is not an object", offset=8)
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPE_BYTES:
            raise InspectionError("safetensors", f"tensor {name!r}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise InspectionError("safetensors", f"tensor {name!r}: bad shape {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(n, int) for n in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size
        ):
            raise InspectionError("safetensors", f"tensor {name!r}: offsets {offsets!r} are bad")
        count = math.prod(shape)
        if offsets[1] - offsets[0] != count * DTYPE_BYTES[dtype]:
            raise InspectionError(
                "safetensors", f"tensor {name!r}: its offsets do not match dtype and shape"
            )
        parameters += count
        dtypes[dtype] = dtypes.get(dtype, 0) + 1
        if len(tensors) < 200:
            tensors[name] = {"dtype": dtype, "shape": shape}
    fmt = str(metadata.get("format", ""))
    record.framework = {"pt": "pytorch", "tf": "tensorflow", "flax": "other"}.get(
        fmt, "huggingface"
    )
    record.sizes["parameters"] = parameters
    record.details.update(
        {
            "header_bytes": length,
            "tensors": len(header),
            "dtypes": dtypes,
            "metadata": {str(k): str(v) for k, v in metadata.items()},
            "tensor_shapes": tensors,
        }
    )
