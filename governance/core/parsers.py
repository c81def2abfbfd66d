"""Request body parsers: JSON through the one guarded parser, and CSV."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from governance.core.jsonbody import JsonInvalid, parse_json


class JsonParser(BaseParser):
    """application/json through ``parse_json`` (depth limit, no NaN): a 400, never a 500."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            return parse_json(raw)
        except JsonInvalid as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class CsvParser(BaseParser):
    """text/csv bodies, decoded as UTF-8 (a byte-order mark is dropped)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> str:
        try:
            return stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(f"The CSV is not UTF-8: {exc.reason} at byte {exc.start}.") from None
