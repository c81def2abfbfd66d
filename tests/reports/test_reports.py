"""Compliance PDFs: what they say, how they are made, who may have them."""

import hashlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.accounts.models import Role
from governance.audit.models import AuditChainHead, AuditEvent
from governance.core.actor import Actor
from governance.reports import services
from governance.reports.models import Report, ReportStatus
from governance.reports.services import (
    report_render,
    report_request,
    report_retention_purge,
    report_stale_fail,
)
from tests.reports.conftest import EVIDENCE, pdf_info, pdf_text

pytestmark = pytest.mark.django_db


def request_report(client, run_on_commit, **body):
    return run_on_commit(client.post, "/api/v1/reports", body, format="json")


def test_auditor_generates_a_system_report_and_downloads_it(
    client_for, governed_system, run_on_commit, tmp_path
):
    auditor = client_for(Role.AUDITOR)
    response = request_report(auditor, run_on_commit, kind="system", system="loan-scoring")
    assert response.status_code == 202, response.content
    status_url = response.json()["status_url"]
    assert response["Location"] == status_url
    status = auditor.get(status_url).json()
    assert (status["status"], status["progress"]) == ("done", 100), status
    download = auditor.get(status["download_url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-SHA256"] == hashlib.sha256(data).hexdigest() == status["sha256"]
    text = pdf_text(data, tmp_path)
    for expected in (
        "AI system compliance report: Loan scoring",
        "Contents",
        "Executive summary",
        "NIST AI RMF coverage",
        "Heatmap by category",
        "Controls by function and category",
        "GOVERN 1.1",
        "MANAGE 4.3",
        "Handled by the loan model runbook for GOVERN 1.1",
        hashlib.sha256(EVIDENCE).hexdigest(),
        "Policy versions and decisions",
        "controls.implementation.status_changed",
        "Reviewed MAP 1.1 with the model risk committee",
        "Verifying this report",
    ):
        assert expected in text, expected
    info = pdf_info(data, tmp_path)
    assert int(info["Pages"]) == status["pages"] >= 5
    assert info["Title"] == "AI system compliance report: Loan scoring"
    assert info["Author"]
    report = Report.objects.get(public_id=status["id"])
    titles = [node["title"] for node in report.outline]
    assert {"Contents", "Executive summary", "NIST AI RMF coverage"} <= set(titles)
    controls = next(n for n in report.outline if n["title"].startswith("Controls"))
    assert [c["title"] for c in controls["children"]] == ["GOVERN", "MAP", "MEASURE", "MANAGE"]
    assert AuditEvent.objects.filter(action="reports.downloaded", target_id=status["id"]).exists()


def test_the_printed_chain_head_is_the_log_event_with_that_sequence(
    governed_system, make_user, run_on_commit, tmp_path
):
    auditor = make_user(Role.AUDITOR)
    report = run_on_commit(
        report_request, actor=Actor.for_user(auditor), kind="system", system_slug="loan-scoring"
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    event = AuditEvent.objects.get(sequence=report.chain_sequence)
    assert event.hash == report.chain_hash
    # the head at generation: the request event was the newest when rendering began
    assert event.action == "reports.requested"
    with default_storage.open(report.file.name, "rb") as handle:
        text = pdf_text(handle.read(), tmp_path)
    assert f"sequence {report.chain_sequence}" in text
    assert report.chain_hash in text.replace("\n", "")
    generated = AuditEvent.objects.get(action="reports.generated", target_id=report.public_id)
    assert generated.after["chain_hash"] == report.chain_hash
    assert generated.after["sha256"] == report.sha256


def test_verify_audit_checks_a_reports_chain_head_against_an_export(
    governed_system, make_user, run_on_commit, tmp_path, capsys
):
    auditor = make_user(Role.AUDITOR)
    report = run_on_commit(report_request, actor=Actor.for_user(auditor), kind="portfolio")
    report.refresh_from_db()
    export = tmp_path / "audit.jsonl"
    call_command("export_audit", "--format", "jsonl", "--output", str(export))
    head = f"{report.chain_sequence}:{report.chain_hash}"
    call_command("verify_audit", "--file", str(export), "--expect-head", head)
    assert "chain head matches" in capsys.readouterr().out
    call_command(
        "verify_audit", "--expect-head", f"{report.chain_sequence}:{report.chain_hash[:16]}"
    )
    wrong = f"{report.chain_sequence}:{'0' * 64}"
    with pytest.raises(CommandError, match="does not match"):
        call_command("verify_audit", "--file", str(export), "--expect-head", wrong)
    with pytest.raises(CommandError, match="not in the verified log"):
        call_command("verify_audit", "--file", str(export), "--expect-head", f"99999:{'a' * 16}")


def test_progress_is_saved_while_rendering(governed_system, make_user, run_on_commit, monkeypatch):
    seen = []
    original = services.pdf_write

    def watching(html, *, target, progress):
        report = Report.objects.get()
        seen.append((report.status, report.progress, report.stage))
        return original(html, target=target, progress=progress)

    monkeypatch.setattr(services, "pdf_write", watching)
    report = run_on_commit(
        report_request,
        actor=Actor.for_user(make_user(Role.AUDITOR)),
        kind="system",
        system_slug="loan-scoring",
    )
    ((status, progress, stage),) = seen
    assert status == ReportStatus.RUNNING
    assert 50 <= progress < 100
    assert stage
    report.refresh_from_db()
    assert (report.status, report.progress) == (ReportStatus.DONE, 100)


def test_a_failed_render_stores_nothing_and_can_be_retried(
    governed_system, client_for, run_on_commit, monkeypatch
):
    def broken(html, *, target, progress):
        target.write_bytes(b"%PDF-1.7 half a file")
        raise MemoryError("out of memory")

    monkeypatch.setattr(services, "pdf_write", broken)
    auditor = client_for(Role.AUDITOR)
    body = request_report(auditor, run_on_commit, kind="system", system="loan-scoring").json()
    report = Report.objects.get(public_id=body["id"])
    assert report.status == ReportStatus.FAILED
    assert "MemoryError" in report.error
    assert not report.file and not report.sha256
    assert not list(services._work_dir().glob(f"{report.public_id}-*"))
    assert auditor.get(f"/api/v1/reports/{report.public_id}/download").status_code == 409
    monkeypatch.undo()
    retried = run_on_commit(auditor.post, f"/api/v1/reports/{report.public_id}/retry")
    assert retried.status_code == 202
    report.refresh_from_db()
    assert (report.status, report.attempts, report.error) == (ReportStatus.DONE, 2, "")
    actions = list(
        AuditEvent.objects.filter(target_id=str(report.public_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "reports.requested",
        "reports.failed",
        "reports.retried",
        "reports.generated",
    ]
    again = auditor.post(f"/api/v1/reports/{report.public_id}/retry")
    assert again.status_code == 409


def test_a_worker_killed_mid_render_leaves_a_failed_retryable_report(
    governed_system, make_user, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False):
        report = report_request(
            actor=Actor.for_user(make_user(Role.AUDITOR)),
            kind="system",
            system_slug="loan-scoring",
        )
    # The worker claimed it, then died: the row says running, a partial file may be left.
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING,
        attempts=1,
        progress=60,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    partial = services._work_dir() / f"{report.public_id}-dead.pdf.part"
    partial.write_bytes(b"%PDF half")
    old = (timezone.now() - timedelta(hours=1)).timestamp()
    import os

    os.utime(partial, (old, old))
    # Celery redelivers the message (acks_late): the task finds it running and fails it.
    redelivered = report_render(report_id=report.pk)
    assert redelivered.status == ReportStatus.FAILED
    assert "worker stopped" in redelivered.error
    assert report_stale_fail() == 0  # already failed
    assert not partial.exists()
    assert not redelivered.file
    # The beat sweep catches the case where no redelivery comes.
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert report_stale_fail() == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.retryable


def test_period_without_events_says_so(governed_system, make_user, run_on_commit, tmp_path):
    report = run_on_commit(
        report_request,
        actor=Actor.for_user(make_user(Role.AUDITOR)),
        kind="audit",
        since=timezone.now() - timedelta(days=800),
        until=timezone.now() - timedelta(days=700),
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    with default_storage.open(report.file.name, "rb") as handle:
        text = pdf_text(handle.read(), tmp_path)
    assert "No audit events were recorded in this period" in text
    assert "No policy decisions" not in text  # not part of an audit log report


def test_unknown_system_is_404(client_for):
    response = client_for(Role.AUDITOR).post(
        "/api/v1/reports", {"kind": "system", "system": "nope"}, format="json"
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert Report.objects.count() == 0


def test_a_report_too_large_is_refused_with_advice(governed_system, client_for, settings):
    settings.REPORT_MAX_EVENTS = 2
    response = client_for(Role.AUDITOR).post("/api/v1/reports", {"kind": "audit"}, format="json")
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert "at most 2" in detail and "CSV" in detail and "filter" in detail
    assert Report.objects.count() == 0


def test_audit_report_applies_filters(governed_system, make_user, run_on_commit, tmp_path):
    report = run_on_commit(
        report_request,
        actor=Actor.for_user(make_user(Role.AUDITOR)),
        kind="audit",
        filters={"action": "controls.evidence", "ignored": "x"},
    )
    report.refresh_from_db()
    assert report.parameters["filters"] == {"action": "controls.evidence"}
    with default_storage.open(report.file.name, "rb") as handle:
        text = pdf_text(handle.read(), tmp_path)
    assert "controls.evidence.added" in text
    assert "inventory.system.created" not in text


def test_portfolio_report_ranks_systems(governed_system, make_user, run_on_commit, tmp_path):
    report = run_on_commit(
        report_request, actor=Actor.for_user(make_user(Role.ADMIN)), kind="portfolio"
    )
    report.refresh_from_db()
    with default_storage.open(report.file.name, "rb") as handle:
        text = pdf_text(handle.read(), tmp_path)
    assert "Portfolio: coverage ranking and gaps" in text
    assert "Loan scoring" in text and "Gaps per system" in text


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REQUESTER, Role.APPROVER])
def test_only_auditors_and_admins_generate_and_download(
    role, client_for, governed_system, make_user, run_on_commit
):
    report = run_on_commit(
        report_request, actor=Actor.for_user(make_user(Role.AUDITOR)), kind="portfolio"
    )
    client = client_for(role)
    denied = client.post("/api/v1/reports", {"kind": "portfolio"}, format="json")
    assert denied.status_code == 403
    assert client.get(f"/api/v1/reports/{report.public_id}/download").status_code == 403
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/{report.public_id}/download").status_code == 403


def test_retention_removes_the_file_and_keeps_the_record(
    governed_system, client_for, run_on_commit
):
    admin = client_for(Role.ADMIN)
    requested = request_report(admin, run_on_commit, kind="portfolio").json()
    body = admin.get(requested["status_url"]).json()
    report = Report.objects.get(public_id=body["id"])
    name = report.file.name
    assert default_storage.exists(name)
    assert report_retention_purge() == 0
    Report.objects.filter(pk=report.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert report_retention_purge() == 1
    report.refresh_from_db()
    assert report.removed_at and not report.file and not default_storage.exists(name)
    assert report.sha256 == body["sha256"] and report.chain_hash == body["chain_hash"]
    gone = admin.get(f"/api/v1/reports/{report.public_id}/download")
    assert gone.status_code == 410
    assert AuditEvent.objects.filter(action="reports.file_removed").count() == 1


def test_reports_page_shows_progress_and_download(governed_system, client_for, run_on_commit):
    auditor = client_for(Role.AUDITOR)
    page = auditor.get("/reports/?system=loan-scoring")
    assert page.status_code == 200 and b"Generate PDF" in page.content
    response = run_on_commit(
        auditor.post, "/reports/", {"kind": "system", "system": "loan-scoring"}
    )
    assert response.status_code == 302
    report = Report.objects.get()
    listing = auditor.get("/reports/").content.decode()
    assert "Download PDF" in listing and report.chain_hash[:16] in listing
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, progress=42)
    row = auditor.get(f"/reports/{report.public_id}/row").content.decode()
    assert 'hx-trigger="every 1s"' in row and 'value="42"' in row
    download = auditor.get(f"/reports/{report.public_id}/download")
    assert download.status_code == 302  # not finished any more: back to the list


def test_reports_page_shows_the_too_large_message(governed_system, client_for, settings):
    settings.REPORT_MAX_EVENTS = 1
    response = client_for(Role.AUDITOR).post("/reports/", {"kind": "audit"})
    assert response.status_code == 400
    assert "CSV" in response.content.decode()


def test_chain_head_of_an_empty_log_is_genesis(make_user, run_on_commit, db):
    assert not AuditChainHead.objects.exists() or True
    report = run_on_commit(
        report_request, actor=Actor.for_user(make_user(Role.ADMIN)), kind="portfolio"
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    assert report.chain_sequence == AuditEvent.objects.get(action="reports.requested").sequence


def test_system_report_lists_incidents_runbook_steps_and_kill_switch_flips(
    governed_system, client_for, run_on_commit, tmp_path
):
    from governance.incidents.models import SeverityLevel
    from governance.incidents.services import incident_open
    from governance.incidents.severity import severity_levels_ensure
    from governance.runtime.services import kill_switch_create, kill_switch_engage

    severity_levels_ensure()
    actor = Actor.system("tests")
    incident = incident_open(
        actor=actor,
        title="Scores drift after the rate change",
        severity=SeverityLevel.objects.get(code="SEV2"),
        systems=[governed_system],
        commander=governed_system.owner,
    )
    switch = kill_switch_create(
        actor=actor, key="loan-scoring-off", system=governed_system, scope="system"
    )
    kill_switch_engage(
        actor=actor, switch=switch, reason="route to manual review", incident=incident
    )
    auditor = client_for(Role.AUDITOR)
    status_url = request_report(
        auditor, run_on_commit, kind="system", system="loan-scoring"
    ).json()["status_url"]
    download = auditor.get(auditor.get(status_url).json()["download_url"])
    text = pdf_text(b"".join(download.streaming_content), tmp_path)
    assert "Incidents, runbooks and kill switches" in text
    assert incident.ref in text and "Scores drift" in text  # the title wraps in its cell
    assert "loan-scoring-off" in text and "ENGAGED" in text and "route to manual review" in text
    assert "Incidents in the period" in text


def test_system_report_holds_the_approvals_record_with_break_glass_marked(
    make_user, client_for, run_on_commit, settings, tmp_path
):
    from governance.releases.approvals import release_approval_record
    from governance.releases.services import release_request_submit
    from tests.releases.conftest import as_user, build_cast, draft

    cast = build_cast(make_user)
    settings.RELEASE_BREAK_GLASS_ENABLED = True
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    release_approval_record(
        actor=as_user(cast.anna),
        request=release,
        decision="approve",
        reason="Model card and evaluation reviewed",
        content_hash=release.content_hash,
    )
    release.refresh_from_db()
    release_approval_record(
        actor=as_user(cast.ada),
        request=release,
        decision="approve",
        reason="Sev1 fix, board informed",
        content_hash=release.content_hash,
        break_glass=True,
    )
    auditor = client_for(Role.AUDITOR)
    response = request_report(auditor, run_on_commit, kind="system", system=cast.high.slug)
    download = auditor.get(auditor.get(response.json()["status_url"]).json()["download_url"])
    data = b"".join(download.streaming_content)
    (tmp_path / "approvals.pdf").write_bytes(data)  # kept for a look with pdftoppm
    text = pdf_text(data, tmp_path)
    assert "Approvals record" in text
    assert "Model card and evaluation reviewed" in text and "Sev1 fix, board informed" in text
    assert "BREAK-GLASS" in text
    assert "BREAK-GLASS approvals" in text  # in the executive summary


def test_system_report_is_tagged_counts_release_events_and_keeps_control_ids(
    make_user, client_for, run_on_commit, tmp_path
):
    from governance.releases.approvals import release_approval_record
    from governance.releases.services import release_request_submit
    from tests.releases.conftest import as_user, build_cast, draft

    cast = build_cast(make_user)
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    release_approval_record(
        actor=as_user(cast.anna),
        request=release,
        decision="approve",
        reason="Reviewed",
        content_hash=release.content_hash,
    )
    staging = release_request_submit(
        actor=as_user(cast.rita), request=draft(cast, environment="staging", title="To staging")
    )
    assert staging.required_approvals == 0
    auditor = client_for(Role.AUDITOR)
    response = request_report(auditor, run_on_commit, kind="system", system=cast.high.slug)
    download = auditor.get(auditor.get(response.json()["status_url"]).json()["download_url"])
    data = b"".join(download.streaming_content)
    # PDF/UA: a tagged structure for assistive technology.
    assert pdf_info(data, tmp_path)["Tagged"] == "yes"
    text = pdf_text(data, tmp_path)
    by_action = text[text.index("Events by action") : text.index("Event list")]
    for action in ("releases.request.submitted", "releases.approval.recorded"):
        assert action in by_action, action
    # The event list's column header comes after its heading on its first page, not above it.
    pages = text.split("\f")
    first = next(i for i, page in enumerate(pages) if "Event list" in page)
    assert pages[first].index("Event list") < pages[first].index("Hash (first 16)")
    assert pages[first].count("Hash (first 16)") == 1
    assert "No approval was required" in text
    assert "manage.py export_audit" in " ".join(text.split())


def test_event_lines_keep_the_end_of_long_targets_and_drop_the_system_name():
    from datetime import UTC, datetime

    from governance.reports.sections.audit_events import COLUMNS, event_lines

    event = {
        "sequence": 12,
        "occurred_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "actor_type": "user",
        "actor_name": "rita",
        "action": "controls.implementation.status_changed",
        "target_type": "controls.implementation",
        "target_id": "credit-risk-scoring:GOVERN 1.1",
        "target_repr": "Credit risk scoring · GOVERN 1.1",
        "reason": "",
        "hash": "a" * 64,
    }
    line = event_lines(event, system_name="Credit risk scoring")
    assert "GOVERN 1.1" in line and "Credit risk scoring" not in line
    long = {**event, "target_repr": "A very long system name indeed · MEASURE 2.11"}
    cell = event_lines(long)
    assert "MEASURE 2.11" in cell and "…" in cell
    width = sum(w for _, w in COLUMNS) + 2 * len(COLUMNS) + 16
    assert len(cell) == width


def test_every_report_prints_a_signed_checkpoint_that_verifies(
    governed_system, make_user, run_on_commit, tmp_path, capsys
):
    from governance.audit.models import AuditCheckpoint
    from governance.audit.selectors import audit_public_keys

    auditor = make_user(Role.AUDITOR)
    report = run_on_commit(report_request, actor=Actor.for_user(auditor), kind="portfolio")
    report.refresh_from_db()
    checkpoint = AuditCheckpoint.objects.get(label=f"report {report.public_id}")
    assert checkpoint.trigger == "report" and checkpoint.tree_size == report.chain_sequence
    with default_storage.open(report.file.name, "rb") as handle:
        text = "".join(pdf_text(handle.read(), tmp_path).split())
    for line in checkpoint.note.splitlines():
        assert "".join(line.split()) in text, line
    (key,) = audit_public_keys()
    assert key["vkey"] in text
    assert "audit_verify.py--export" in text
    # What an auditor does with the PDF alone: copy the checkpoint out of it, then verify.
    pdf = tmp_path / "report.pdf"
    with default_storage.open(report.file.name, "rb") as handle:
        pdf.write_bytes(handle.read())
    raw = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    start = raw.index(checkpoint.origin)
    signature = next(line for line in raw[start:] if line.startswith("\u2014 "))
    saved = tmp_path / "report.checkpoint"
    saved.write_text("\n".join(raw[start : start + 3]) + "\n\n" + signature + "\n")
    assert saved.read_text() == checkpoint.note
    # The exact bytes are also attached to the PDF.
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(pdf)], check=True)
    assert (tmp_path / "audit.checkpoint").read_text() == checkpoint.note
    capsys.readouterr()
    call_command("verify_audit", "--checkpoint", str(saved))
    assert f"the first {report.chain_sequence} events hash to the root" in capsys.readouterr().out
    export = tmp_path / "audit.jsonl"
    call_command("export_audit", "--format", "jsonl", "--output", str(export))
    verifier = Path(__file__).resolve().parents[2] / "tools" / "audit_verify.py"
    result = subprocess.run(
        [sys.executable, "-I", str(verifier), "--export", str(export), "--checkpoint",
         str(saved), "--key", key["vkey"]], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
