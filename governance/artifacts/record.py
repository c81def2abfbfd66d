"""The one normalised record every format reader fills in, its findings, and its errors."""

from dataclasses import asdict, dataclass, field
from typing import Any

INSPECTOR_VERSION = 1

# Bounds on what one inspection reads. Model weights can be large; the headers and metadata the
# inspector needs are small, so the caps are on what is parsed, not on the file on disk.
MAX_METADATA_BYTES = 8 * 1024 * 1024  # one JSON / YAML / protobuf document
MAX_PICKLE_BYTES = 512 * 1024 * 1024  # a pickle is scanned opcode by opcode, never loaded
MAX_PICKLE_OPCODES = 10_000_000
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per entry above a small size
MAX_DIRECTORY_FILES = 5_000


class Severity:
    CRITICAL = "critical"  # loading this runs code the author chose
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """Something a reviewer should know about the artifact, with where it was seen."""

    code: str
    severity: str
    message: str
    location: str = ""


class InspectionError(Exception):
    """A file the inspector refuses or cannot parse: names the format and the byte offset."""

    def __init__(self, fmt: str, message: str, *, offset: int | None = None, path: str = ""):
        self.format = fmt
        self.offset = offset
        self.path = path
        where = f" at offset {offset}" if offset is not None else ""
        name = f" ({path})" if path else ""
        super().__init__(f"{fmt}{name}: {message}{where}")
        self.detail = message

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "offset": self.offset,
            "path": self.path,
            "detail": str(self),
        }


@dataclass
class ArtifactRecord:
    """What one inspection learned. ``framework`` and ``artifact_format`` use the inventory's
    choices; ``format`` is the precise format the reader recognised."""

    format: str
    artifact_format: str = ""
    framework: str = "other"
    framework_version: str = ""
    signature: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    license: str = ""
    datasets: list[str] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    base_model: str = ""
    run_id: str = ""
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""

    def add(self, code: str, severity: str, message: str, location: str = "") -> None:
        finding = Finding(code, severity, message, location)
        if finding not in self.findings:
            self.findings.append(finding)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["inspector_version"] = INSPECTOR_VERSION
        return out
