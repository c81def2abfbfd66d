"""What a release changes, at a glance for the approver: the version now in the environment
against the proposed one (metrics against thresholds, datasets, framework and artifact), and
the most recent policy decision taken for the request."""

from dataclasses import dataclass, field
from typing import Any

from governance.inventory.models import ModelVersion
from governance.policy.inputs import DeploymentRequest, version_in_environment
from governance.policy.models import Decision
from governance.policy.selectors import policy_version_active
from governance.releases.models import ReleaseRequest


@dataclass(frozen=True)
class MetricChange:
    metric: str
    proposed: float | None
    current: float | None
    threshold: float | None
    lower_is_better: bool
    meets: bool | None  # None: no threshold to meet
    regressed: bool  # worse than the current version by more than the policy's tolerance

    @property
    def delta(self) -> float | None:
        if self.proposed is None or self.current is None:
            return None
        return round(self.proposed - self.current, 6)

    @property
    def better(self) -> bool | None:
        """Whether the change goes the right way (None when nothing changed or unknown)."""
        if not self.delta:
            return None
        return (self.delta < 0) if self.lower_is_better else (self.delta > 0)


@dataclass(frozen=True)
class FieldChange:
    label: str
    current: str
    proposed: str


@dataclass(frozen=True)
class VersionComparison:
    proposed: ModelVersion
    current: ModelVersion | None
    metrics: list[MetricChange] = field(default_factory=list)
    datasets_added: list[str] = field(default_factory=list)
    datasets_removed: list[str] = field(default_factory=list)
    datasets_kept: list[str] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _metrics(version: ModelVersion | None) -> dict[str, dict[str, Any]]:
    if version is None:
        return {}
    return {m["metric"]: m for m in version.evaluation if isinstance(m, dict) and "metric" in m}


def release_comparison(*, request: ReleaseRequest) -> VersionComparison:
    proposed = request.model_version
    current = version_in_environment(
        DeploymentRequest(
            system=request.system,
            model_version=proposed,
            environment=request.environment,
            requester=request.requester.username,
        )
    )
    active = policy_version_active()
    rules = (active.data if active else {}).get("evaluation", {})
    thresholds = rules.get("thresholds", {})
    lower = set(rules.get("lower_is_better", []))
    tolerance = _number(rules.get("regression_tolerance")) or 0.0

    new, old = _metrics(proposed), _metrics(current)
    metrics = []
    for name in [*new, *(m for m in thresholds if m not in new)]:
        value = _number(new.get(name, {}).get("value"))
        before = _number(old.get(name, {}).get("value"))
        # The policy's threshold wins over the one recorded with the evaluation.
        limit = _number(thresholds.get(name, new.get(name, {}).get("threshold")))
        is_lower = name in lower
        meets = None
        if limit is not None:
            meets = value is not None and (value <= limit if is_lower else value >= limit)
        regressed = False
        if value is not None and before is not None:
            regressed = value > before + tolerance if is_lower else value < before - tolerance
        metrics.append(MetricChange(name, value, before, limit, is_lower, meets, regressed))

    now = {d.slug for d in proposed.datasets.all()}
    then = {d.slug for d in current.datasets.all()} if current else set()
    changes = []
    if current is not None:
        for label, attr in (
            ("Framework", "framework"),
            ("Framework version", "framework_version"),
            ("Artifact format", "artifact_format"),
            ("Artifact URI", "artifact_uri"),
            ("Artifact SHA-256", "artifact_sha256"),
            ("Code commit", "code_commit_sha"),
            ("Prompt version", "prompt_version"),
        ):
            before_value, after_value = getattr(current, attr), getattr(proposed, attr)
            if before_value != after_value:
                changes.append(FieldChange(label, before_value or "—", after_value or "—"))
    return VersionComparison(
        proposed=proposed,
        current=current,
        metrics=metrics,
        datasets_added=sorted(now - then) if current else sorted(now),
        datasets_removed=sorted(then - now),
        datasets_kept=sorted(now & then),
        changes=changes,
    )


def release_latest_decision(*, request: ReleaseRequest) -> Decision | None:
    """The most recent policy decision taken for this request (submit, deploy or re-check)."""
    candidates = [d for d in (request.submit_decision, request.deploy_decision) if d]
    rechecked = (
        Decision.objects.filter(
            system_slug=request.system.slug,
            model_version=request.model_version.version,
            environment=request.environment,
            input__request__change__release=str(request.public_id),
        )
        .order_by("-occurred_at")
        .first()
    )
    if rechecked is not None:
        candidates.append(rechecked)
    return max(candidates, key=lambda d: d.occurred_at, default=None)
