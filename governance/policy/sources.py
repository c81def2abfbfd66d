"""Policy sources: the Rego modules and data in policies/, and the content hash of a set."""

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

# The query every engine answers: {"allow": bool, "violations": [...]}.
DECISION_PATH = "governance/deployment/decision"
DATA_MOUNT = "policy"  # the policy data is data.policy
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\s", re.MULTILINE)


@dataclass(frozen=True)
class PolicySnapshot:
    """What an engine needs of a policy version, free of the ORM."""

    number: int
    content_hash: str
    modules: dict[str, str]
    data: dict[str, Any]
    # When this version began deciding (its activation, epoch seconds): an engine stops
    # evaluations of a version activated earlier when they hold what a newer one needs.
    since: float = 0.0


def policy_directory() -> Path:
    return Path(settings.POLICY_DIR)


def read_policy_directory(path: Path | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Every *.rego file (tests included) and data.json of the policies directory."""
    path = path or policy_directory()
    modules = {p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.rego"))}
    data_file = path / "data.json"
    data = json.loads(data_file.read_text(encoding="utf-8")) if data_file.exists() else {}
    return modules, data


def content_hash(modules: dict[str, str], data: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the modules and data: equal sources, equal hash."""
    canonical = json.dumps(
        {"modules": modules, "data": data}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def package_of(source: str) -> str | None:
    match = _PACKAGE.search(source)
    return match.group(1) if match else None


def test_rules(source: str) -> list[str]:
    return _TEST_RULE.findall(source)
