"""Request body parsers beyond JSON."""

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class CsvParser(BaseParser):
    """text/csv bodies, decoded as UTF-8 (a byte-order mark is dropped)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> str:
        try:
            return stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(f"The CSV is not UTF-8: {exc.reason} at byte {exc.start}.") from None
