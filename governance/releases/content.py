"""The content hash of a release request: what an approval is bound to."""

import hashlib
import json
from typing import Any

# The fields an approver reviews; changing any of them voids earlier approvals.
MATERIAL_FIELDS = (
    "system",
    "model_version",
    "environment",
    "title",
    "change_summary",
    "justification",
    "evaluation_links",
)


def material_content(request: Any) -> dict[str, Any]:
    return {
        "system": request.system.slug,
        "model_version": request.model_version.version,
        "environment": request.environment,
        "title": request.title,
        "change_summary": request.change_summary,
        "justification": request.justification,
        "evaluation_links": list(request.evaluation_links),
    }


def content_hash_of(request: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the material fields."""
    canonical = json.dumps(
        material_content(request), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
