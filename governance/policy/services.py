"""Writes of the policy app: versions (create, activate, shadow) and decisions."""

import json
import logging
import re
import time
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError
from governance.incidents.services import incident_deployment_refused
from governance.policy.engines import policy_engine, shadow_engine
from governance.policy.engines.base import (
    EngineError,
    EngineOverMemory,
    EngineResult,
    EngineTimeout,
)
from governance.policy.engines.embedded import compile_policy
from governance.policy.inputs import DeploymentRequest, deployment_input
from governance.policy.masking import mask_secrets
from governance.policy.models import (
    AllowedVersion,
    Decision,
    PolicyVersion,
    ShadowResult,
    VersionStatus,
)
from governance.policy.rego_tests import run_rego_tests
from governance.policy.selectors import (
    HEALTH_WINDOW,
    OVERRUN_MARKS,
    policy_version_health,
    policy_version_overruns,
)
from governance.policy.sources import (
    PolicySnapshot,
    content_hash,
    read_policy_directory,
)

logger = logging.getLogger(__name__)
ENGINE_ACTOR = Actor.system("policy-engine")

_UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


_snapshots: dict[str, PolicySnapshot] = {}
Deciding = tuple[
    tuple[PolicyVersion, PolicySnapshot] | None, tuple[PolicyVersion, PolicySnapshot] | None
]
# The last answer and the audit chain head it was read at: every status change of a version
# is audited, so while the head stands still the answer does too.
_last_deciding: tuple[str, Deciding] | None = None


def _deciding_versions(*, audit_head: str | None = None) -> Deciding:
    """The active and shadow versions in one light query, none while ``audit_head`` (read by
    the caller) is the head the last answer was read at. Sources and data are loaded once
    per process per content hash: a version's content never changes, so the hash names it."""
    global _last_deciding
    last = _last_deciding
    if audit_head is not None and last is not None and last[0] == audit_head:
        return last[1]
    found: dict[str, tuple[PolicyVersion, PolicySnapshot]] = {}
    for pk, number, status, digest, activated_at in PolicyVersion.objects.filter(
        status__in=[VersionStatus.ACTIVE, VersionStatus.SHADOW]
    ).values_list("pk", "number", "status", "content_hash", "activated_at"):
        if digest not in _snapshots:
            if len(_snapshots) > 8:
                _snapshots.clear()
            _snapshots[digest] = snapshot_of(PolicyVersion.objects.get(pk=pk))
        since = activated_at.timestamp() if activated_at and status == VersionStatus.ACTIVE else 0
        if _snapshots[digest].since != since:  # activated (again) since it was loaded
            _snapshots[digest] = replace(_snapshots[digest], since=since)
        # Only what a decision records of its version; the row itself is never saved from here.
        version = PolicyVersion(pk=pk, number=number, status=status, content_hash=digest)
        found[status] = (version, _snapshots[digest])
    answer = found.get(VersionStatus.ACTIVE), found.get(VersionStatus.SHADOW)
    if audit_head is not None:
        _last_deciding = (audit_head, answer)
    return answer


def snapshot_of(version: PolicyVersion) -> PolicySnapshot:
    return PolicySnapshot(
        number=version.number,
        content_hash=version.content_hash,
        modules=version.policy_modules,
        data=version.data,
    )


def _validate_data(data: Any) -> None:
    """What the policies rely on in their data; the rest is the policy author's to shape."""
    if not isinstance(data, dict):
        raise ValidationError({"data": ["Policy data is a JSON object."]})
    errors = []
    windows = data.get("freeze_windows", [])
    if not isinstance(windows, list):
        errors.append("freeze_windows is a list.")
    else:
        for index, window in enumerate(windows):
            if not isinstance(window, dict):
                errors.append(f"freeze_windows[{index}] is an object.")
                continue
            for key in ("start", "end"):
                if not _UTC_STAMP.match(str(window.get(key, ""))):
                    errors.append(
                        f"freeze_windows[{index}].{key} must look like 2026-12-20T00:00:00Z (UTC)."
                    )
            if _UTC_STAMP.match(str(window.get("start", ""))) and str(window.get("end")) <= str(
                window.get("start")
            ):
                errors.append(f"freeze_windows[{index}] ends before it starts.")
            if not isinstance(window.get("environments"), list):
                errors.append(f"freeze_windows[{index}].environments is a list.")
    if errors:
        raise ValidationError({"data": errors})


def _compile_check(modules: dict[str, str], data: dict[str, Any], digest: str) -> None:
    """Refuse a version the engine cannot compile, with the compiler's message."""
    snapshot = PolicySnapshot(
        number=0,
        content_hash=digest,
        modules={n: s for n, s in modules.items() if not n.endswith("_test.rego")},
        data=data,
    )
    try:
        compile_policy(snapshot)
    except EngineError as exc:
        raise ValidationError({"modules": [str(exc)]}) from None


def policy_version_create(
    *, actor: Actor, modules: dict[str, str], data: dict[str, Any], note: str = ""
) -> PolicyVersion:
    """A new candidate version, compiled and tested. Identical sources give the same version
    back, so loading the same directory twice creates nothing."""
    if (
        not isinstance(modules, dict)
        or not modules
        or not all(
            isinstance(n, str) and n.endswith(".rego") and isinstance(s, str)
            for n, s in modules.items()
        )
    ):
        raise ValidationError({"modules": ["Give at least one {name.rego: source} module."]})
    _validate_data(data)
    digest = content_hash(modules, data)
    existing = PolicyVersion.objects.filter(content_hash=digest).first()
    if existing is not None:
        return existing
    _compile_check(modules, data, digest)
    results = run_rego_tests(modules, data)
    with transaction.atomic():
        number = (PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        version = PolicyVersion.objects.create(
            number=number,
            modules=modules,
            data=data,
            content_hash=digest,
            note=note[:500],
            created_by=actor.label,
            test_results=results,
            tests_passed=bool(results) and all(r["passed"] for r in results) if results else None,
        )
        audit_record(
            actor=actor,
            action="policy.version.created",
            target=Target.of(version, id_field="number"),
            after={
                "number": number,
                "content_hash": digest,
                "modules": sorted(modules),
                "tests_passed": version.tests_passed,
            },
            reason=note,
        )
    return version


def policy_data_update(
    *, actor: Actor, base: PolicyVersion, data: dict[str, Any], note: str
) -> PolicyVersion:
    """Policy data edited in the UI: a new candidate version with the same modules."""
    if not note.strip():
        raise ValidationError({"note": ["Say what changed and why."]})
    if data == base.data:
        raise ValidationError({"data": ["The data is unchanged."]})
    return policy_version_create(actor=actor, modules=base.modules, data=data, note=note)


def _set_status(
    *, actor: Actor, version: PolicyVersion, status: str, reason: str, action: str
) -> PolicyVersion:
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required."]})
    with transaction.atomic():
        version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
        before = version.status
        if before == status:
            raise Conflict(f"Policy v{version.number} is already {version.get_status_display()}.")
        if status == VersionStatus.ACTIVE and version.tests_passed is False:
            raise DomainError(
                f"Policy v{version.number} fails its Rego tests; fix them before activating.",
                errors={"tests": [r["name"] for r in version.test_results if not r["passed"]]},
            )
        displaced = list(
            PolicyVersion.objects.select_for_update().filter(status=status).exclude(pk=version.pk)
        )
        for other in displaced:
            other.status = (
                VersionStatus.RETIRED if status == VersionStatus.ACTIVE else VersionStatus.CANDIDATE
            )
            other.save(update_fields=["status"])
        version.status = status
        fields = ["status"]
        if status == VersionStatus.ACTIVE:
            version.activated_by, version.activated_at = actor.label, timezone.now()
            fields += ["activated_by", "activated_at"]
        version.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=action,
            target=Target.of(version, id_field="number"),
            before={"status": before, "displaced": [f"v{o.number}" for o in displaced]},
            after={
                "status": status,
                "content_hash": version.content_hash,
                # An admin activating a version that keeps timing out sees it, and so does
                # the audit log.
                **policy_version_health(version=version),
            },
            reason=reason,
        )
    return version


def policy_version_activate(*, actor: Actor, version: PolicyVersion, reason: str) -> PolicyVersion:
    """Make ``version`` the one that decides; the previous active version retires."""
    return _set_status(
        actor=actor,
        version=version,
        status=VersionStatus.ACTIVE,
        reason=reason,
        action="policy.version.activated",
    )


def policy_version_shadow(*, actor: Actor, version: PolicyVersion, reason: str) -> PolicyVersion:
    """Run ``version`` beside the active one on every decision, recording disagreements."""
    if version.status == VersionStatus.ACTIVE:
        raise Conflict("The active version cannot also run in shadow.")
    return _set_status(
        actor=actor,
        version=version,
        status=VersionStatus.SHADOW,
        reason=reason,
        action="policy.version.shadowed",
    )


def policy_version_shadow_stop(
    *, actor: Actor, version: PolicyVersion, reason: str
) -> PolicyVersion:
    if version.status != VersionStatus.SHADOW:
        raise Conflict(f"Policy v{version.number} is not running in shadow.")
    return _set_status(
        actor=actor,
        version=version,
        status=VersionStatus.CANDIDATE,
        reason=reason,
        action="policy.version.shadow_stopped",
    )


def policy_directory_load(*, actor: Actor, activate_first: bool = True) -> PolicyVersion:
    """policies/ as a version (no new one when unchanged); activated when none is active."""
    modules, data = read_policy_directory()
    version = policy_version_create(
        actor=actor, modules=modules, data=data, note="Loaded from policies/"
    )
    if activate_first and not PolicyVersion.objects.filter(status=VersionStatus.ACTIVE).exists():
        version = policy_version_activate(
            actor=actor, version=version, reason="First policy version: policies/ as shipped"
        )
    return version


# --- Decisions ------------------------------------------------------------------------------


def _engine_failure(message: str) -> EngineResult:
    return EngineResult(
        allow=False,
        violations=[
            {
                "code": "engine.error",
                "message": f"The policy engine could not decide, so the answer is deny: {message}",
                "severity": "deny",
                "controls": [],
            }
        ],
    )


def _codes(violations: list[dict[str, Any]]) -> set[str]:
    return {v["code"] for v in violations if v.get("severity") == "deny"}


def decision_evaluate(
    *, actor: Actor, endpoint: str, request: DeploymentRequest, dry_run: bool = False
) -> Decision:
    """Decide ``request`` with the active policy version and log the decision.

    A dry run is decided exactly the same way and logged as one; it never counts as
    "allowed into that environment" for a later decision.

    Fail closed: no active version, an engine error or a timeout is a deny with the reason,
    unless POLICY_FAIL_OPEN names this endpoint; then it is an allow, and it is audited.
    A shadow version, if one runs, decides the same input and any disagreement is recorded.
    """
    deciding, shadowing = _deciding_versions(audit_head=request.audit_head)
    active = deciding[0] if deciding else None
    shadow = shadowing[0] if shadowing else None
    document = deployment_input(request)
    engine = policy_engine()
    error = ""
    overran: list[PolicyVersion] = []
    started = time.perf_counter()
    if active is None:
        error = "No policy version is active."
        result = _engine_failure(error)
    else:
        try:
            result = engine.evaluate(deciding[1], document)
        except EngineError as exc:
            error = str(exc)
            result = _engine_failure(error)
            if isinstance(exc, (EngineTimeout, EngineOverMemory)):
                overran.append(active)
    latency_ms = (time.perf_counter() - started) * 1000
    fail_open = bool(error) and endpoint in settings.POLICY_FAIL_OPEN
    if fail_open:
        result = EngineResult(allow=True, violations=result.violations)
    shadow_outcome = _shadow_evaluate(shadowing[1], document, result) if shadowing else None

    decision = Decision(
        endpoint=endpoint,
        caller=actor.label,
        request_id=actor.request_id,
        system_slug=request.system.slug,
        model_version=request.model_version.version,
        environment=request.environment,
        input=mask_secrets(document),
        allow=result.allow,
        violations=result.violations,
        policy_version=active,
        policy_hash=active.content_hash if active else "",
        engine=engine.name,
        latency_ms=round(latency_ms, 3),
        error=error,
        fail_open=fail_open,
        dry_run=dry_run,
    )
    counts = decision.allow and not dry_run
    if shadow_outcome is None and not fail_open and not counts:
        decision.save()  # one INSERT in autocommit: a denial pays no BEGIN/COMMIT trips
    else:
        with transaction.atomic():
            decision.save()
            if counts:
                _allowed_version_record(decision)
            if shadow_outcome is not None:
                ShadowResult.objects.create(
                    decision=decision, policy_version=shadow, **shadow_outcome
                )
            if fail_open:
                audit_record(
                    actor=actor,
                    action="policy.decision.fail_open",
                    target=Target(
                        type="policy.decision",
                        id=str(decision.decision_id),
                        repr=str(decision)[:255],
                    ),
                    after={"endpoint": endpoint, "error": error},
                    reason=f"The engine failed and {endpoint} is configured to fail open.",
                )
    if shadow_outcome is not None and any(m in shadow_outcome["error"] for m in OVERRUN_MARKS):
        overran.append(shadow)
    for version in overran:
        policy_version_overrun_note(version=version)
    if not dry_run and any(v["code"] == "kill_switch.engaged" for v in decision.violations):
        incident_deployment_refused(decision=decision)
    if error:
        logger.warning(
            "policy decision %s failed %s: %s",
            decision.decision_id,
            "open" if fail_open else "closed",
            error,
        )
    return decision


def policy_version_overrun_note(*, version: PolicyVersion) -> None:
    """After one of ``version``'s evaluations was stopped at the timeout or the memory limit:
    once that happened POLICY_TIMEOUT_ALERT_COUNT times within an hour, record it (at most once
    an hour), so an admin sees a runaway version while it is active or in shadow. The action
    keeps its first name, ``policy.version.timing_out``."""
    since = timezone.now() - HEALTH_WINDOW
    timeouts = policy_version_overruns(version=version, since=since)
    if timeouts < settings.POLICY_TIMEOUT_ALERT_COUNT:
        return
    target = Target.of(version, id_field="number")
    if AuditEvent.objects.filter(
        action="policy.version.timing_out",
        target_type=target.type,
        target_id=target.id,
        occurred_at__gte=since,
    ).exists():
        return
    with transaction.atomic():
        audit_record(
            actor=ENGINE_ACTOR,
            action="policy.version.timing_out",
            target=target,
            after={
                "status": version.status,
                "timeouts_last_hour": timeouts,
                "timeout_ms": settings.POLICY_TIMEOUT_MS,
                "memory_mb": settings.POLICY_ENGINE_MEMORY_MB,
            },
            reason=f"Policy v{version.number} was stopped {timeouts} times in the last hour "
            "(at the timeout or the memory limit); each of those decisions was denied.",
        )
    logger.warning(
        "policy v%s keeps overrunning (%s stopped in the last hour)", version.number, timeouts
    )


def _allowed_version_record(decision: Decision) -> None:
    """Upsert the (system, environment, version) row in the decision's transaction."""
    AllowedVersion.objects.bulk_create(
        [
            AllowedVersion(
                system_slug=decision.system_slug,
                environment=decision.environment,
                model_version=decision.model_version,
                last_allowed_at=decision.occurred_at,
                decision_id=decision.decision_id,
            )
        ],
        update_conflicts=True,
        unique_fields=["system_slug", "environment", "model_version"],
        update_fields=["last_allowed_at", "decision_id"],
    )


def decision_refuse(
    *,
    actor: Actor,
    endpoint: str,
    code: str,
    message: str,
    system_slug: str = "",
    model_version: str = "",
    environment: str = "",
    requester: str = "",
    change: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> Decision:
    """Log a refusal taken before any policy could run (the request names nothing, or an
    unknown system, version or environment), so every denial is in the decision log."""
    active = _deciding_versions()[0]
    document = {
        "input_version": 1,
        "request": {"environment": environment, "requester": requester, "change": change or {}},
        "names": {"system": system_slug, "model_version": model_version},
    }
    return Decision.objects.create(
        endpoint=endpoint,
        caller=actor.label,
        request_id=actor.request_id,
        system_slug=system_slug[:80],
        model_version=model_version[:64],
        environment=environment[:32],
        input=mask_secrets(document),
        allow=False,
        violations=[{"code": code, "message": message, "severity": "deny", "controls": []}],
        policy_version=active[0] if active else None,
        policy_hash=active[0].content_hash if active else "",
        engine=policy_engine().name,
        latency_ms=0.0,
        dry_run=dry_run,
    )


def _shadow_evaluate(
    shadow: PolicySnapshot, document: dict[str, Any], active: EngineResult
) -> dict[str, Any] | None:
    """Shadow versions run embedded, whatever engine decides (they only observe), on
    evaluation processes of their own."""
    try:
        result = shadow_engine().evaluate(shadow, document)
    except EngineError as exc:
        return {"allow": None, "violations": [], "error": str(exc), "added": [], "removed": []}
    ours, theirs = _codes(active.violations), _codes(result.violations)
    if result.allow == active.allow and ours == theirs:
        return None
    return {
        "allow": result.allow,
        "violations": result.violations,
        "error": "",
        "added": sorted(theirs - ours),
        "removed": sorted(ours - theirs),
    }


def decision_input_json(decision: Decision) -> str:
    return json.dumps(decision.input, indent=2, sort_keys=True)
