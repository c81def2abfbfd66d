"""Zip archives (PyTorch, Keras v3, skops) read with bounds: entry count, sizes, compression
ratio and names are checked before anything is decompressed, and reads stop at the caps even
when an entry's header lies about its size."""

import io
import posixpath
import zipfile

from governance.artifacts.record import (
    MAX_METADATA_BYTES,
    MAX_ZIP_ENTRIES,
    MAX_ZIP_RATIO,
    MAX_ZIP_TOTAL_BYTES,
    InspectionError,
)

_RATIO_FLOOR = 1024 * 1024  # small entries may compress well without being bombs


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in posixpath.normpath(name).split("/") or "\x00" in name


class SafeZip:
    """A checked view of a zip archive held in memory."""

    def __init__(self, data: bytes, *, fmt: str, location: str = ""):
        self.fmt = fmt
        self.location = location
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise InspectionError(fmt, f"not a readable zip archive ({exc})", offset=0) from None
        if len(infos) > MAX_ZIP_ENTRIES:
            raise InspectionError(fmt, f"{len(infos)} zip entries (at most {MAX_ZIP_ENTRIES})")
        total = 0
        for info in infos:
            if _unsafe_name(info.filename):
                raise InspectionError(
                    fmt,
                    f"zip entry {info.filename!r} points outside the archive (path traversal)",
                    offset=info.header_offset,
                )
            total += info.file_size
            if info.file_size > _RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(
                info.compress_size, 1
            ):
                raise InspectionError(
                    fmt,
                    f"zip entry {info.filename!r} expands {info.file_size} bytes from "
                    f"{info.compress_size} (ratio over {MAX_ZIP_RATIO}: a zip bomb?)",
                    offset=info.header_offset,
                )
        if total > MAX_ZIP_TOTAL_BYTES:
            raise InspectionError(fmt, f"zip entries total {total} bytes (too large)")
        self.infos = {info.filename: info for info in infos if not info.is_dir()}

    @property
    def names(self) -> list[str]:
        return sorted(self.infos)

    def read(self, name: str, *, limit: int = MAX_METADATA_BYTES) -> bytes:
        info = self.infos[name]
        if info.file_size > limit:
            raise InspectionError(
                self.fmt, f"zip entry {name!r} is {info.file_size} bytes (at most {limit})"
            )
        try:
            with self.zip.open(info) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise InspectionError(
                self.fmt, f"zip entry {name!r} is corrupt ({exc})", offset=info.header_offset
            ) from None
        if len(data) > limit:
            raise InspectionError(self.fmt, f"zip entry {name!r} expands past {limit} bytes")
        return data


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")
