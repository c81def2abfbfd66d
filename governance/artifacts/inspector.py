"""Inspect one model file, or a model directory, into one ArtifactRecord.

Nothing here imports an ML framework or unpickles: each format is parsed from its bytes by the
readers in ``formats/`` and ``pickles``. Every file read is hashed; a directory's SHA-256 is
that of its manifest (``<sha256>  <path>`` lines, sorted by path, as ``sha256sum`` prints).
"""

import bz2
import gzip
import hashlib
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from governance.artifacts.archives import SafeZip, is_zip
from governance.artifacts.formats.documents import (
    inspect_bentoml,
    inspect_mlmodel,
    inspect_model_card,
    inspect_skops_schema,
    inspect_spacy_meta,
    inspect_spark_metadata,
)
from governance.artifacts.formats.keras_model import inspect_keras
from governance.artifacts.formats.onnx_model import inspect_onnx
from governance.artifacts.formats.savedmodel import inspect_savedmodel
from governance.artifacts.formats.tensors import inspect_safetensors
from governance.artifacts.pickles import pickle_scan
from governance.artifacts.record import (
    MAX_DIRECTORY_FILES,
    MAX_METADATA_BYTES,
    MAX_PICKLE_BYTES,
    ArtifactRecord,
    InspectionError,
    Severity,
)

ARTIFACT_FORMATS = {
    "mlmodel": "mlflow", "safetensors": "safetensors", "onnx": "onnx",
    "savedmodel": "savedmodel", "keras": "keras", "pickle": "pickle", "joblib": "pickle",
    "pytorch": "pickle", "torchscript": "torchscript", "skops": "skops", "spacy": "spacy",
    "spark-mllib": "spark-mllib", "bentoml": "bentoml", "model-card": "",
}  # fmt: skip
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".dill"}
GLOBAL_FRAMEWORKS = (
    ("sklearn.", "sklearn"), ("xgboost.", "xgboost"), ("lightgbm.", "xgboost"),
    ("torch.", "pytorch"), ("transformers.", "huggingface"), ("keras.", "tensorflow"),
    ("tensorflow.", "tensorflow"),
)  # fmt: skip


@dataclass
class Blob:
    """One file: its relative path, size and a way to read it (bounded)."""

    path: str
    size: int
    reader: Callable[[int], bytes]

    def read(self, limit: int) -> bytes:
        if self.size > limit:
            raise InspectionError(
                detect_name(self.path), f"{self.size} bytes (at most {limit})", path=self.path
            )
        return self.reader(limit)


def detect_name(path: str) -> str:
    name = PurePosixPath(path).name
    suffix = PurePosixPath(path).suffix.lower()
    lower = name.lower()
    if name == "MLmodel" or lower.endswith(".mlmodel"):
        return "mlmodel"
    if name == "saved_model.pb" or suffix == ".pb":
        return "savedmodel"
    if name == "meta.json":
        return "spacy"
    if (name.startswith("part-") and PurePosixPath(path).parent.name == "metadata") or (
        ".metadata.part-" in lower
    ):
        return "spark-mllib"
    if lower.endswith(("model.yaml", "bentofile.yaml")):
        return "bentoml"
    if name == "schema.json":
        return "skops"
    if suffix == ".md":
        return "model-card"
    return {
        ".safetensors": "safetensors",
        ".onnx": "onnx",
        ".keras": "keras",
        ".skops": "skops",
        ".joblib": "joblib",
    }.get(suffix, "pickle" if suffix in PICKLE_SUFFIXES else "")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_DECOMPRESSORS = (
    (b"\x1f\x8b", "gzip", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
    (b"BZh", "bz2", bz2.BZ2Decompressor),
    (b"\xfd7zXZ\x00", "xz", lzma.LZMADecompressor),
    (b"\x78", "zlib", zlib.decompressobj),
)
del gzip  # gzip streams are read with zlib's decompressobj (bounded), never gzip.open


def _maybe_decompress(data: bytes, path: str) -> tuple[bytes, str]:
    """joblib's compressed files: decompress with a hard bound on the output."""
    for magic, name, factory in _DECOMPRESSORS:
        if data.startswith(magic):
            decompressor = factory()
            try:
                if isinstance(decompressor, zlib._Decompress):  # type: ignore[attr-defined]
                    out = decompressor.decompress(data, MAX_PICKLE_BYTES + 1)
                else:
                    out = decompressor.decompress(data, max_length=MAX_PICKLE_BYTES + 1)
            except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
                raise InspectionError(
                    "joblib", f"{name} stream is corrupt ({exc})", offset=0, path=path
                ) from None
            if len(out) > MAX_PICKLE_BYTES:
                raise InspectionError(
                    "joblib", f"{name} stream expands past {MAX_PICKLE_BYTES} bytes", path=path
                )
            return out, name
    return data, ""


def _pickle_into(data: bytes, record: ArtifactRecord, location: str) -> None:
    """Scan one pickle (or a legacy torch file: several pickles in a row) for its globals."""
    scans = [pickle_scan(data, location=location)]
    end = scans[0].end
    # torch's legacy format writes a magic number, version and system info, then the object.
    while len(scans) < 5 and end < len(data) and data[end : end + 1] == b"\x80":
        try:
            nxt = pickle_scan(data[end:], location=location)
        except InspectionError:
            break
        scans.append(nxt)
        end += nxt.end
    names: list[str] = []
    dangerous: list[str] = []
    for scan in scans:
        names += [g for g in scan.globals if g not in names]
        dangerous += [g for g in scan.dangerous if g not in dangerous]
    pickles = record.details.setdefault("pickles", {})
    pickles[location or "(file)"] = {**scans[0].as_dict(), "globals": names, "streams": len(scans)}
    if dangerous:
        record.add(
            "pickle.dangerous_global",
            Severity.CRITICAL,
            "Loading this pickle imports and can call: " + ", ".join(dangerous),
            location=location,
        )
    if names:
        record.add(
            "pickle.imports",
            Severity.INFO,
            "Loading this pickle imports: " + ", ".join(names[:40]),
            location=location,
        )
    if record.framework == "other":
        for prefix, framework in GLOBAL_FRAMEWORKS:
            if any(g.startswith(prefix) for g in names):
                record.framework = framework
                break


def _inspect_zip(blob: Blob, data: bytes, record: ArtifactRecord, hint: str) -> str:
    archive = SafeZip(data, fmt=hint if hint in ("keras", "skops") else "zip", location=blob.path)
    names = archive.names
    if "config.json" in archive.infos and (hint == "keras" or "metadata.json" in archive.infos):
        inspect_keras(archive, record)
        return "keras"
    if "schema.json" in archive.infos:
        inspect_skops_schema(archive.read("schema.json"), record)
        return "skops"
    pickles = [n for n in names if n.endswith(".pkl")]
    if pickles:
        record.framework = "pytorch"
        for name in pickles:
            _pickle_into(archive.read(name, limit=MAX_PICKLE_BYTES), record, f"{blob.path}:{name}")
        version = next((n for n in names if PurePosixPath(n).name == "version"), None)
        if version:
            record.details["torch_archive_version"] = (
                archive.read(version).decode("ascii", "replace").strip()[:16]
            )
        record.details["entries"] = len(names)
        return "torchscript" if any("/code/" in f"/{n}" for n in names) else "pytorch"
    raise InspectionError(hint or "zip", "a zip archive of no known model format", path=blob.path)


def _inspect_blob(blob: Blob, record: ArtifactRecord, *, sniff: bool = True) -> str:
    """Parse one file into ``record``; returns the precise format it recognised."""
    fmt = detect_name(blob.path)
    if fmt == "safetensors":
        head = blob.reader(min(blob.size, MAX_METADATA_BYTES + 8))
        inspect_safetensors(head, blob.size, record)
        return fmt
    limit = MAX_PICKLE_BYTES if fmt in ("pickle", "joblib", "") else MAX_METADATA_BYTES
    data = blob.read(limit)
    readers = {
        "mlmodel": inspect_mlmodel,
        "savedmodel": inspect_savedmodel,
        "onnx": inspect_onnx,
        "spacy": inspect_spacy_meta,
        "spark-mllib": inspect_spark_metadata,
        "bentoml": inspect_bentoml,
        "skops": inspect_skops_schema,
        "model-card": inspect_model_card,
    }
    if fmt in readers and not (fmt == "skops" and is_zip(data)):
        readers[fmt](data, record)
        return fmt
    if is_zip(data):
        return _inspect_zip(blob, data, record, fmt)
    if fmt in ("pickle", "joblib") or (sniff and data[:1] == b"\x80"):
        data, compression = _maybe_decompress(data, blob.path)
        if compression:
            record.details["compression"] = compression
        _pickle_into(data, record, blob.path)
        return "joblib" if fmt == "joblib" else "pickle"
    if sniff:
        sniffed = _sniff_document(data, record, readers)
        if sniffed:
            return sniffed
    if sniff and len(data) >= 8:
        try:  # safetensors has no magic number: a header that parses is the test
            inspect_safetensors(data, len(data), record)
            return "safetensors"
        except InspectionError:
            pass
    raise InspectionError("unknown", "not a model format the inspector reads", path=blob.path)


def _sniff_document(data: bytes, record: ArtifactRecord, readers: dict) -> str:
    """A metadata document under another name: try the readers whose shape it may have."""
    text = data[:1].decode("latin-1")
    candidates = ("spark-mllib", "spacy", "skops") if text == "{" else ("mlmodel", "bentoml")
    if text == "-":
        candidates = ("model-card",)
    for fmt in candidates:
        attempt = ArtifactRecord(format="")
        try:
            readers[fmt](data, attempt)
        except InspectionError:
            continue
        record.__dict__.update(attempt.__dict__)
        return fmt
    return ""


def _finish(record: ArtifactRecord, fmt: str, files: list[dict]) -> ArtifactRecord:
    record.format = fmt
    if not record.artifact_format:
        record.artifact_format = ARTIFACT_FORMATS.get(fmt, "")
    record.files = files
    record.sizes["files"] = len(files)
    record.sizes["bytes"] = sum(f["bytes"] for f in files)
    if len(files) == 1:
        record.sha256 = files[0]["sha256"]
    else:
        manifest = "".join(f"{f['sha256']}  {f['path']}\n" for f in sorted(files, key=_path))
        record.sha256 = _sha256_hex(manifest.encode())
    return record


def _path(entry: dict) -> str:
    return entry["path"]


def _hash_blob(blob: Blob, fmt: str) -> dict:
    digest = hashlib.sha256()
    for chunk in _chunks(blob):
        digest.update(chunk)
    return {"path": blob.path, "bytes": blob.size, "sha256": digest.hexdigest(), "format": fmt}


def _chunks(blob: Blob):
    reader = getattr(blob.reader, "chunks", None)
    if reader is not None:
        yield from reader()
    else:
        yield blob.reader(blob.size)


def inspect_blobs(blobs: list[Blob], *, name: str = "") -> ArtifactRecord:
    """One record for a set of files (a model directory, or files fetched from a registry)."""
    if not blobs:
        raise InspectionError("unknown", "no files to inspect", path=name)
    if len(blobs) > MAX_DIRECTORY_FILES:
        raise InspectionError("directory", f"{len(blobs)} files (at most {MAX_DIRECTORY_FILES})")
    if len(blobs) == 1:
        record = ArtifactRecord(format="")
        fmt = _inspect_blob(blobs[0], record)
        return _finish(record, fmt, [_hash_blob(blobs[0], fmt)])
    by_path = {b.path: b for b in blobs}
    primary_order = ("MLmodel", "saved_model.pb", "meta.json", "metadata/part-00000", "model.yaml")
    primary = next((by_path[p] for p in primary_order if p in by_path), None)
    record = ArtifactRecord(format="")
    files = []
    fmt = ""
    if primary is not None:
        fmt = _inspect_blob(primary, record, sniff=False)
        files.append(_hash_blob(primary, fmt))
    for blob in sorted(blobs, key=lambda b: b.path):
        if blob is primary:
            continue
        kind = detect_name(blob.path)
        if not kind or (kind == "skops" and fmt != "skops" and not blob.path.endswith(".skops")):
            files.append(_hash_blob(blob, ""))
            continue
        part = ArtifactRecord(format="")
        try:
            part_fmt = _inspect_blob(blob, part, sniff=False)
        except InspectionError as exc:
            record.add("artifact.unreadable_file", Severity.WARNING, str(exc), location=blob.path)
            files.append(_hash_blob(blob, kind))
            continue
        files.append(_hash_blob(blob, part_fmt))
        _merge(record, part, part_fmt, blob.path)
        if not fmt and part_fmt != "model-card":
            fmt = part_fmt
            record.framework, record.framework_version = part.framework, part.framework_version
    if not fmt:
        fmt = "model-card" if record.details.get("model_card") else "unknown"
        if fmt == "unknown":
            raise InspectionError("directory", "no model file the inspector reads", path=name)
    return _finish(record, fmt, files)


def _merge(record: ArtifactRecord, part: ArtifactRecord, fmt: str, path: str) -> None:
    for finding in part.findings:
        record.add(finding.code, finding.severity, finding.message, finding.location or path)
    if fmt == "model-card":
        record.license = record.license or part.license
        record.datasets = record.datasets or part.datasets
        record.metrics = record.metrics or part.metrics
        record.base_model = record.base_model or part.base_model
        record.details["model_card"] = {"path": path, **part.details}
        if record.framework == "other":
            record.framework = part.framework
        return
    if "parameters" in part.sizes:
        record.sizes["parameters"] = record.sizes.get("parameters", 0) + part.sizes["parameters"]
    if not record.signature and part.signature:
        record.signature = part.signature
    record.details.setdefault("parts", {})[path] = {"format": fmt, **part.details}
    if fmt in ("pickle", "joblib", "pytorch") and record.artifact_format in ("", "mlflow"):
        record.details.setdefault("pickled_parts", []).append(path)


class _FileReader:
    def __init__(self, path: Path):
        self.path = path

    def __call__(self, limit: int) -> bytes:
        with self.path.open("rb") as handle:
            return handle.read(limit)

    def chunks(self):
        with self.path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk


def _file_blob(path: Path, root: Path | None = None) -> Blob:
    rel = path.relative_to(root).as_posix() if root else path.name
    return Blob(rel, path.stat().st_size, _FileReader(path))


def artifact_inspect_path(*, path: Path) -> ArtifactRecord:
    """Inspect a file or a model directory on disk (symlinks are not followed out of it)."""
    if path.is_dir():
        root = path.resolve()
        blobs = []
        for child in sorted(root.rglob("*")):
            if child.is_symlink() or not child.is_file():
                continue
            blobs.append(_file_blob(child, root))
            if len(blobs) > MAX_DIRECTORY_FILES:
                break
        return inspect_blobs(blobs, name=path.name)
    if not path.is_file():
        raise InspectionError("unknown", "no such file", path=str(path))
    return inspect_blobs([_file_blob(path)], name=path.name)


def artifact_inspect_bytes(*, name: str, data: bytes) -> ArtifactRecord:
    """Inspect one uploaded file held in memory, by its name and bytes."""
    safe_name = PurePosixPath(name.replace("\\", "/")).name or "upload"
    return inspect_blobs([memory_blob(safe_name, data)], name=safe_name)


def memory_blob(path: str, data: bytes) -> Blob:
    return Blob(path, len(data), lambda limit: data[:limit])
