"""A minimal protobuf wire-format reader: enough to walk ONNX and SavedModel messages by field
number without their generated classes (and without the frameworks that ship them)."""

from collections.abc import Iterator
from typing import Any

from governance.artifacts.record import InspectionError

VARINT, I64, LEN, I32 = 0, 1, 2, 5
MAX_DEPTH = 64


class Message:
    """Fields of one message: number -> list of raw values (int for varints, bytes for LEN)."""

    def __init__(self, data: bytes, *, fmt: str, base: int = 0, depth: int = 0):
        if depth > MAX_DEPTH:
            raise InspectionError(fmt, "messages nested too deeply", offset=base)
        self.fmt, self.base, self.depth = fmt, base, depth
        self.fields: dict[int, list[tuple[int, Any]]] = {}
        for number, wire, value, offset in _fields(data, fmt, base):
            self.fields.setdefault(number, []).append((offset, value))
            del wire

    def ints(self, number: int) -> list[int]:
        out: list[int] = []
        for offset, value in self.fields.get(number, []):
            if isinstance(value, int):
                out.append(value)
            else:  # packed repeated varints
                out.extend(v for _, _, v, _ in _varints(value, self.fmt, offset))
        return out

    def int(self, number: int, default: int = 0) -> int:
        values = self.ints(number)
        return _signed(values[-1]) if values else default

    def strings(self, number: int) -> list[str]:
        return [
            value.decode("utf-8", "replace")
            for _, value in self.fields.get(number, [])
            if isinstance(value, bytes)
        ]

    def string(self, number: int) -> str:
        values = self.strings(number)
        return values[-1] if values else ""

    def messages(self, number: int) -> list["Message"]:
        return [
            Message(value, fmt=self.fmt, base=offset, depth=self.depth + 1)
            for offset, value in self.fields.get(number, [])
            if isinstance(value, bytes)
        ]

    def message(self, number: int) -> "Message | None":
        values = self.messages(number)
        return values[-1] if values else None


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _varint(data: bytes, pos: int, fmt: str, base: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise InspectionError(fmt, "truncated varint", offset=base + pos)
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise InspectionError(fmt, "varint longer than 10 bytes", offset=base + pos)


def _varints(data: bytes, fmt: str, base: int) -> Iterator[tuple[int, int, int, int]]:
    pos = 0
    while pos < len(data):
        value, pos = _varint(data, pos, fmt, base)
        yield 0, VARINT, value, base + pos


def _fields(data: bytes, fmt: str, base: int) -> Iterator[tuple[int, int, Any, int]]:
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos, fmt, base)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise InspectionError(fmt, "field number 0", offset=base + start)
        if wire == VARINT:
            value, pos = _varint(data, pos, fmt, base)
        elif wire == I64:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == I32:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        elif wire == LEN:
            length, pos = _varint(data, pos, fmt, base)
            if pos + length > len(data):
                raise InspectionError(
                    fmt, f"field {number} claims {length} bytes past the end", offset=base + start
                )
            value = data[pos : pos + length]
            yield number, wire, value, base + pos
            pos += length
            continue
        else:
            raise InspectionError(fmt, f"unsupported wire type {wire}", offset=base + start)
        if pos > len(data):
            raise InspectionError(fmt, "truncated fixed-width field", offset=base + start)
        yield number, wire, value, base + start
