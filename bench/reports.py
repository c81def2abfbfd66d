"""Compliance PDF rendering: a demo system scaled to 3,000 audit events and 72 controls with
evidence, rendered through the same service the Celery task calls.

Prints seconds, pages, seconds per page and peak memory (the process's maximum resident set).
Targets (issue 7): at most 100 ms per page, a 100-page report within 15 s, under 600 MiB.
"""

import json
import resource
import tempfile
import time
from datetime import UTC, datetime
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings

from governance.accounts.models import Role, User
from governance.audit.models import AuditEvent
from governance.audit.services import Target, audit_record
from governance.controls.models import ControlStatus, Subcategory
from governance.controls.services import catalog_load, control_implementation_update, evidence_add
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create
from governance.reports import services
from governance.reports.selectors import report_events

EVENTS = 3000
REPETITIONS = 2
SLUG = "bench-credit-scoring"


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def _setup() -> tuple[User, int]:
    actor = Actor.system("bench")
    catalog_load(actor=actor)
    owner = User.objects.create_user(username="bench-owner", password=None, role=Role.APPROVER)
    auditor = User.objects.create_user(username="bench-auditor", password=None, role=Role.AUDITOR)
    system = ai_system_create(
        actor=actor,
        slug=SLUG,
        name="Credit scoring (benchmark)",
        owner=owner,
        risk_tier="critical",  # requires all 72 subcategories
        description="A demo system scaled up for the report benchmark.",
    )
    subcategories = list(
        Subcategory.objects.order_by(
            "category__function__position", "category__position", "position"
        )
    )
    for index, sub in enumerate(subcategories):
        control_implementation_update(
            actor=actor,
            system=system,
            subcategory=sub,
            reason="Benchmark: implemented and reviewed",
            status=ControlStatus.IMPLEMENTED if index % 4 else ControlStatus.IN_PROGRESS,
            owner=owner,
            implementation="Documented in the model risk management file, section "
            f"{index + 1}, with sign-off by the second line of defence.",
        )
        evidence_add(
            actor=actor,
            system=system,
            subcategory=sub,
            title=f"{sub.code} review record",
            upload=SimpleUploadedFile(
                f"review-{index}.txt", f"review {sub.code}".encode(), "text/plain"
            ),
        )
    existing = report_events(
        since=datetime(2000, 1, 1, tzinfo=UTC),
        until=datetime(2100, 1, 1, tzinfo=UTC),
        system_slug=SLUG,
    ).count()
    with transaction.atomic():
        for n in range(EVENTS - existing):
            sub = subcategories[n % len(subcategories)]
            audit_record(
                actor=Actor.for_user(owner),
                action="controls.implementation.updated",
                target=Target("controls.implementation", f"{SLUG}:{sub.code}", f"{sub.code}"),
                before={"next_review_at": None},
                after={"next_review_at": "2027-01-01"},
                reason="Quarterly review scheduled" if n % 3 else "",
            )
    return auditor, AuditEvent.objects.count()


def run() -> None:
    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(MEDIA_ROOT=media, REPORT_MAX_EVENTS=10_000),
        mock.patch.object(services, "_queue"),  # render here, timed alone, not on commit
    ):
        auditor, total_events = _setup()
        for repetition in range(REPETITIONS):
            report = services.report_request(
                actor=Actor.for_user(auditor), kind="system", system_slug=SLUG
            )
            started = time.perf_counter()
            report = services.report_render(report_id=report.pk)
            seconds = time.perf_counter() - started
            if report.status != "done":
                raise SystemExit(f"report failed: {report.error}")
            _emit(
                bench="reports.system_pdf",
                repetition=repetition + 1,
                audit_events_printed=report_events(
                    since=datetime.fromisoformat(report.parameters["since"]),
                    until=datetime.fromisoformat(report.parameters["until"]),
                    system_slug=SLUG,
                    up_to_sequence=report.chain_sequence,
                ).count(),
                controls=Subcategory.objects.count(),
                seconds=round(seconds, 2),
                pages=report.pages,
                ms_per_page=round(1000 * seconds / report.pages, 1),
                bytes=report.size,
                peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                audit_log_events=total_events,
            )
