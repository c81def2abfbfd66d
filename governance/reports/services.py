"""Every write about reports: request, render (in Celery), retry, download, retention.

Rendering never happens in a request: ``report_request`` stores the ask and its render task
(the outbox, core.outbox) in one transaction; the API answers 202 once that commits, whether
the broker is up or not. ``report_render`` claims the report's current attempt, writes the PDF
to a temporary file and moves it into storage only once it is complete, so a worker killed
mid-render leaves no half file: the report is marked failed (by the redelivered task of that
attempt or by ``report_stale_fail``, which the sweeper runs) and can be retried.
"""

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.utils import timezone

from governance.audit.checkpoints import audit_checkpoint_create
from governance.audit.keys import SigningDisabled
from governance.audit.models import (
    GENESIS_HASH,
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    CheckpointTrigger,
)
from governance.audit.selectors import audit_public_keys
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict, DomainError, NotFound
from governance.core.outbox import outbox_enqueue
from governance.inventory.models import AISystem
from governance.reports.models import Report, ReportKind, ReportStatus, report_path
from governance.reports.rendering import HTML_DONE, pdf_write, report_html, sections_build
from governance.reports.sections import ReportScope
from governance.reports.selectors import AUDIT_FILTERS, report_events

logger = logging.getLogger(__name__)

DEFAULT_PERIOD = timedelta(days=90)
RENDERER = Actor.system("reports")


class ReportTooLarge(DomainError):
    status = 413
    code = "report-too-large"
    title = "Report too large to render"


class ReportGone(DomainError):
    status = 410
    code = "report-gone"
    title = "Report file removed"


def _target(report: Report) -> Target:
    return Target("reports.report", str(report.public_id), report.title[:255])


def report_request(
    *,
    actor: Actor,
    kind: str,
    system_slug: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    filters: dict[str, str] | None = None,
    incident_number: int | None = None,
) -> Report:
    """Check the ask against the limits, store it, and queue its rendering on commit."""
    if kind not in ReportKind.values:
        raise DomainError(f"Unknown report kind {kind!r}.", errors={"kind": ["Unknown kind."]})
    until = until or timezone.now()
    since = since or until - DEFAULT_PERIOD
    if since >= until:
        raise DomainError(
            "The period must start before it ends.", errors={"since": ["After 'until'."]}
        )
    system = None
    incident = None
    if kind == ReportKind.SERIOUS_INCIDENT:
        incident = _serious_incident(incident_number)
    if kind in (ReportKind.SYSTEM, ReportKind.AI_ACT):
        if not system_slug:
            raise DomainError(
                "A system report needs an AI system.", errors={"system": ["Required."]}
            )
        system = AISystem.objects.filter(slug=system_slug).first()
        if system is None:
            raise NotFound(f"No AI system {system_slug!r}.", errors={"system": ["Unknown."]})
    filters = {k: v for k, v in (filters or {}).items() if k in AUDIT_FILTERS and v}
    if kind == ReportKind.AUDIT:
        title = "Audit log report"
    elif kind == ReportKind.PORTFOLIO:
        title = "Portfolio compliance report"
        filters = {}
    elif kind == ReportKind.AI_ACT:
        title = f"EU AI Act report: {system.name}"
        filters = {}
    elif kind == ReportKind.SERIOUS_INCIDENT:
        title = f"Serious incident report (EU AI Act Art. 73): {incident.ref}"
        filters = {}
    else:
        title = f"AI system compliance report: {system.name}"
        filters = {}
    if kind in (ReportKind.SYSTEM, ReportKind.AUDIT, ReportKind.AI_ACT):
        events = report_events(
            since=since, until=until, system_slug=system_slug or None, filters=filters
        ).count()
        if events > settings.REPORT_MAX_EVENTS:
            raise ReportTooLarge(
                f"This report would print {events} audit events; at most "
                f"{settings.REPORT_MAX_EVENTS} fit in one PDF. Narrow the period or filter by "
                "actor, action or target, or take the events as CSV "
                "(GET /api/v1/exports/audit-events.csv with the same filters) or as the "
                "verifiable JSONL export (GET /api/v1/audit/export).",
                errors={
                    "since": [
                        f"{events} events in the period; the limit is {settings.REPORT_MAX_EVENTS}."
                    ]
                },
            )
    parameters: dict[str, Any] = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        **({"system": system_slug} if system else {}),
        **({"incident": incident.number} if incident else {}),
        **({"filters": filters} if filters else {}),
    }
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind,
            title=title,
            parameters=parameters,
            requested_by=actor.user,
            requested_by_name=actor.name,
            attempts=1,
            queued_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action="reports.requested",
            target=_target(report),
            after={"kind": kind, **parameters},
        )
        _queue(report)
    return report


def _serious_incident(number: int | None) -> Any:
    """The incident a serious incident report is about; it must be marked serious."""
    from governance.incidents.models import Incident

    if not number:
        raise DomainError(
            "A serious incident report needs an incident.", errors={"incident": ["Required."]}
        )
    incident = (
        Incident.objects.select_related("severity", "serious_report__system__owner")
        .filter(number=number)
        .first()
    )
    if incident is None:
        raise NotFound(f"No incident {number}.", errors={"incident": ["Unknown."]})
    if not hasattr(incident, "serious_report"):
        raise DomainError(
            f"{incident.ref} is not marked as a serious incident.",
            errors={"incident": ["Mark it serious (EU AI Act Art. 73) first."]},
        )
    return incident


RENDER_TASK = "governance.reports.tasks.report_render_task"


def _queue(report: Report) -> None:
    """The render task for the report's current attempt, in the outbox (same transaction)."""
    outbox_enqueue(task=RENDER_TASK, args=[report.pk, report.attempts])


def report_retry(*, actor: Actor, report: Report) -> Report:
    """Queue a failed report again, or one queued too long (no worker took it): a new attempt,
    so whatever is still under way for the earlier one can no longer touch the report. The
    earlier error is kept in the audit log."""
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if not report.retryable:
            raise Conflict(
                "Only a failed report, or one queued for more than "
                f"{settings.OUTBOX_OVERDUE_SECONDS} s, can be retried; this one is "
                f"{report.status}."
            )
        before = {"status": report.status, "error": report.error, "attempt": report.attempts}
        report.status, report.progress, report.stage, report.error = (
            ReportStatus.QUEUED,
            0,
            "",
            "",
        )
        report.attempts += 1
        report.queued_at = timezone.now()
        report.save(update_fields=["status", "progress", "stage", "error", "attempts", "queued_at"])
        audit_record(
            actor=actor,
            action="reports.retried",
            target=_target(report),
            before=before,
            after={"status": report.status, "attempt": report.attempts},
        )
        _queue(report)
    return report


def _scope(report: Report, *, chain_sequence: int, chain_hash: str) -> ReportScope:
    parameters = report.parameters
    system = None
    if report.kind in (ReportKind.SYSTEM, ReportKind.AI_ACT):
        system = AISystem.objects.select_related("owner", "technical_owner").get(
            slug=parameters["system"]
        )
    incident = None
    if report.kind == ReportKind.SERIOUS_INCIDENT:
        incident = _serious_incident(parameters["incident"])
    return ReportScope(
        kind=report.kind,
        since=datetime.fromisoformat(parameters["since"]),
        until=datetime.fromisoformat(parameters["until"]),
        generated_at=timezone.now(),
        chain_sequence=chain_sequence,
        chain_hash=chain_hash,
        system=system,
        filters=dict(parameters.get("filters", {})),
        incident=incident,
    )


def _work_dir() -> Path:
    """Where PDFs are written before they are complete: beside the stored files when storage
    is the file system (so the final move is an atomic rename), else the temp directory."""
    if isinstance(default_storage, FileSystemStorage):
        path = Path(default_storage.path("reports")) / ".partial"
    else:
        path = Path(tempfile.gettempdir()) / "governance-reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _CompletedFile(File):
    """A finished temporary file: FileSystemStorage moves it into place instead of copying."""

    def temporary_file_path(self) -> str:
        return self.name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def report_render(*, report_id: int, attempt: int | None = None) -> Report:
    """Render attempt ``attempt`` of a queued report (the Celery task calls this). Only that
    attempt is touched: a task of an earlier attempt (redelivered after its worker died, or
    published twice) finds nothing to do. Never raises for a render failure: the report is
    marked failed with the reason, and can be retried."""
    now = timezone.now()
    if attempt is None:  # a message queued before tasks carried their attempt
        attempt = Report.objects.filter(pk=report_id).values_list("attempts", flat=True).first()
    claimed = Report.objects.filter(
        pk=report_id, status=ReportStatus.QUEUED, attempts=attempt
    ).update(
        status=ReportStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        progress=1,
        stage="Started",
    )
    report = Report.objects.get(pk=report_id)
    if not claimed:
        stale = now - timedelta(seconds=settings.REPORT_STALE_SECONDS)
        if (
            report.status == ReportStatus.RUNNING
            and report.attempts == attempt
            and report.heartbeat_at is not None
            and report.heartbeat_at < stale
        ):
            # This attempt's message came back (acks_late) and its renderer is silent: the
            # worker rendering it died. A renderer still beating is left alone.
            _fail(
                report,
                "The worker stopped while rendering this report; retry it.",
                attempt=attempt,
            )
            report.refresh_from_db()
        return report

    def progress(percent: int, stage: str) -> None:
        Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(
            progress=min(percent, 99), stage=stage[:100], heartbeat_at=timezone.now()
        )

    checkpoint = _checkpoint_for(report)
    if checkpoint is not None:
        # The report covers exactly the events its signed checkpoint covers.
        chain_sequence = checkpoint.tree_size
        chain_hash = (
            AuditEvent.objects.filter(sequence=chain_sequence)
            .values_list("hash", flat=True)
            .first()
            or GENESIS_HASH
        )
    else:
        head = AuditChainHead.objects.filter(id=1).values_list("sequence", "hash").first()
        chain_sequence, chain_hash = head or (0, GENESIS_HASH)
    Report.objects.filter(pk=report_id).update(chain_sequence=chain_sequence, chain_hash=chain_hash)
    fd, partial_name = tempfile.mkstemp(
        dir=_work_dir(), prefix=f"{report.public_id}-", suffix=".pdf.part"
    )
    os.close(fd)
    partial, stored_name = Path(partial_name), ""
    started = time.monotonic()
    try:
        scope = _scope(report, chain_sequence=chain_sequence, chain_hash=chain_hash)
        if checkpoint is not None:
            scope = replace(scope, checkpoint=checkpoint.note, keys=audit_public_keys())
        sections = sections_build(scope, progress)
        html = report_html(
            scope=scope, title=report.title, author=report.requested_by_name, sections=sections
        )
        progress(HTML_DONE, "Laying out the pages")
        rendered = pdf_write(html, target=partial, progress=progress)
        sha256, size = _sha256(partial), partial.stat().st_size
        with _CompletedFile(partial.open("rb"), name=str(partial)) as completed:
            stored_name = default_storage.save(
                report_path(report, f"{report.kind}-report-{report.public_id}.pdf"), completed
            )
        finished = timezone.now()
        retention = settings.REPORT_RETENTION_DAYS
        with transaction.atomic():
            done = Report.objects.filter(
                pk=report_id, status=ReportStatus.RUNNING, attempts=attempt
            ).update(
                status=ReportStatus.DONE,
                progress=100,
                stage=f"Done in {time.monotonic() - started:.1f} s",
                file=stored_name,
                sha256=sha256,
                size=size,
                pages=rendered.pages,
                outline=rendered.outline,
                finished_at=finished,
                heartbeat_at=finished,
                expires_at=finished + timedelta(days=retention) if retention > 0 else None,
            )
            if not done:
                raise Conflict("The report was marked failed while it rendered.")
            audit_record(
                actor=RENDERER,
                action="reports.generated",
                target=_target(report),
                after={
                    "sha256": sha256,
                    "size": size,
                    "pages": rendered.pages,
                    "chain_sequence": chain_sequence,
                    "chain_hash": chain_hash,
                },
            )
    except Exception as exc:
        logger.exception("report %s failed to render", report.public_id)
        if stored_name:
            default_storage.delete(stored_name)
        _fail(report, f"Rendering failed: {type(exc).__name__}: {exc}"[:2000], attempt=attempt)
    finally:
        partial.unlink(missing_ok=True)
    report.refresh_from_db()
    return report


def _checkpoint_for(report: Report) -> AuditCheckpoint | None:
    """A signed checkpoint for this report, printed in it; None when signing is disabled."""
    try:
        return audit_checkpoint_create(
            trigger=CheckpointTrigger.REPORT, label=f"report {report.public_id}"
        )
    except SigningDisabled:
        return None


def _fail(report: Report, error: str, *, attempt: int | None = None) -> None:
    with transaction.atomic():
        running = Report.objects.filter(pk=report.pk, status=ReportStatus.RUNNING)
        if attempt is not None:
            running = running.filter(attempts=attempt)
        if not running.update(
            status=ReportStatus.FAILED, error=error, finished_at=timezone.now(), stage="Failed"
        ):
            return
        audit_record(
            actor=RENDERER,
            action="reports.failed",
            target=_target(report),
            after={"error": error},
        )


def report_stale_fail(*, now: datetime | None = None) -> int:
    """Mark failed the reports whose renderer went silent (its worker died), and remove
    abandoned partial files. Returns how many reports were marked failed."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.REPORT_STALE_SECONDS)
    stale = list(Report.objects.filter(status=ReportStatus.RUNNING, heartbeat_at__lt=cutoff))
    for report in stale:
        _fail(
            report,
            f"No progress for {settings.REPORT_STALE_SECONDS} s: the worker rendering this "
            "report stopped. Retry it.",
            attempt=report.attempts,
        )
    for leftover in _work_dir().glob("*.pdf.part"):
        if leftover.stat().st_mtime < cutoff.timestamp():
            leftover.unlink(missing_ok=True)
    return len(stale)


def report_download(*, actor: Actor, report: Report) -> IO[bytes]:
    """Open a finished report's PDF for download; the download is audited first."""
    if report.removed_at is not None:
        raise ReportGone(
            f"The PDF was removed by retention on {report.removed_at:%Y-%m-%d}; its SHA-256 "
            f"{report.sha256} and chain head stay on record. Generate it again."
        )
    if report.status != ReportStatus.DONE or not report.file:
        raise Conflict(f"The report is {report.status}; there is nothing to download yet.")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="reports.downloaded",
            target=_target(report),
            after={"sha256": report.sha256},
        )
    return default_storage.open(report.file.name, "rb")


def report_retention_purge(*, now: datetime | None = None) -> int:
    """Remove the files of expired reports, keeping their records; returns how many."""
    now = now or timezone.now()
    expired = Report.objects.filter(
        status=ReportStatus.DONE, removed_at__isnull=True, expires_at__lte=now
    )
    removed = 0
    for report in expired:
        with transaction.atomic():
            name = report.file.name
            Report.objects.filter(pk=report.pk).update(removed_at=now, file="")
            audit_record(
                actor=RENDERER,
                action="reports.file_removed",
                target=_target(report),
                after={"sha256": report.sha256, "file": name},
                reason=f"Retention: older than {settings.REPORT_RETENTION_DAYS} days",
            )
        if name:
            default_storage.delete(name)
        removed += 1
    return removed
