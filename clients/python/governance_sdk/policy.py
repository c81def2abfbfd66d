"""``policy_check``: ask the policy engine whether a deployment may go ahead."""

from dataclasses import dataclass, field
from typing import Any

from governance_sdk.http import request_json


@dataclass(frozen=True)
class PolicyResult:
    allow: bool
    decision_id: str
    policy_version: int | None
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [f"{v.get('code')}: {v.get('message')}" for v in self.violations]


def policy_check(
    base_url: str,
    *,
    token: str,
    system: str,
    version: str,
    environment: str,
    requester: str = "pipeline",
    change: dict[str, Any] | None = None,
    current_version: str | None = None,
    timeout: float = 10.0,
) -> PolicyResult:
    """POST /api/v1/policy/check. Raises GovernanceError when no decision came back: a
    pipeline must treat that as a deny (fail closed)."""
    body: dict[str, Any] = {
        "system": system,
        "model_version": version,
        "environment": environment,
        "requester": requester,
        "change": change or {},
    }
    if current_version:
        body["current_version"] = current_version
    _, _, data = request_json(
        "POST",
        base_url.rstrip("/") + "/api/v1/policy/check",
        token=token,
        body=body,
        timeout=timeout,
    )
    return PolicyResult(
        allow=bool(data["allow"]),
        decision_id=str(data["decision_id"]),
        policy_version=data.get("policy_version"),
        violations=list(data.get("violations", [])),
    )
