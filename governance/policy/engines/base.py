"""The one interface every policy engine adapter offers."""

from dataclasses import dataclass, field
from typing import Any, Protocol

from governance.policy.sources import PolicySnapshot


class EngineError(Exception):
    """The engine could not decide (compile error, runtime error, bad answer, timeout)."""


class EngineTimeout(EngineError):
    pass


class EngineOverMemory(EngineError):
    """The evaluation outgrew the engine's memory budget and was stopped (a runaway, like a
    timeout)."""


@dataclass(frozen=True)
class EngineResult:
    allow: bool
    violations: list[dict[str, Any]] = field(default_factory=list)


class PolicyEngine(Protocol):
    name: str

    def evaluate(self, policy: PolicySnapshot, document: dict[str, Any]) -> EngineResult:
        """The decision of ``policy`` for the input ``document``; raises EngineError."""
        ...


_SEVERITIES = {"deny", "warn"}


def result_from_decision(value: Any) -> EngineResult:
    """Check the decision document's shape: a policy that answers something else cannot
    allow anything."""
    if not isinstance(value, dict) or not isinstance(value.get("allow"), bool):
        raise EngineError(f"The policy answered {str(value)[:200]!r}, not a decision.")
    violations = value.get("violations", [])
    if not isinstance(violations, list):
        raise EngineError("The policy's violations are not a list.")
    clean = []
    for v in violations:
        if not isinstance(v, dict) or not isinstance(v.get("code"), str):
            raise EngineError(f"A violation has no code: {str(v)[:200]!r}.")
        severity = v.get("severity", "deny")
        clean.append(
            {
                "code": v["code"],
                "message": str(v.get("message", "")),
                "severity": severity if severity in _SEVERITIES else "deny",
                # Each subcategory once, in the policy's order.
                "controls": list(
                    dict.fromkeys(c for c in v.get("controls", []) if isinstance(c, str))
                ),
            }
        )
    clean.sort(key=lambda v: (v["severity"] != "deny", v["code"], v["message"]))
    return EngineResult(allow=value["allow"], violations=clean)
