"""The compliance PDF per framework: the EU AI Act report (classification with reasons,
obligations with status and evidence, the crosswalked NIST evidence, serious incidents with
their reporting times) and the pre-filled Art. 73 report to the authority."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from governance.accounts.models import Role
from governance.controls.aiact import Answers
from governance.controls.classifications import ai_act_classify
from governance.core.actor import Actor
from tests.reports.conftest import pdf_text
from tests.reports.test_reports import request_report


def _pdf(client, run_on_commit, tmp_path, **body) -> str:
    response = request_report(client, run_on_commit, **body)
    assert response.status_code == 202, response.content
    status = client.get(response.json()["status_url"]).json()
    assert status["status"] == "done", status
    download = client.get(status["download_url"])
    return pdf_text(b"".join(download.streaming_content), tmp_path)


def _serious_incident(system):
    from governance.incidents.models import SeverityLevel
    from governance.incidents.serious import serious_incident_mark
    from governance.incidents.services import incident_add_note, incident_open
    from governance.incidents.severity import severity_levels_ensure

    severity_levels_ensure()
    actor = Actor.system("tests")
    incident = incident_open(
        actor=actor,
        title="Loans refused to a protected group",
        severity=SeverityLevel.objects.get(code="SEV1"),
        systems=[system],
        commander=system.owner,
    )
    incident_add_note(actor=actor, incident=incident, message="Rolled back to 4.1 at 10:12")
    serious_incident_mark(
        actor=actor,
        incident=incident,
        system=system,
        kind="widespread",
        aware_at=timezone.now() - timedelta(days=3),
        reason="Widespread infringement of non-discrimination rights",
    )
    return incident


def test_the_ai_act_report_lists_classification_obligations_and_nist_evidence(
    governed_system, client_for, run_on_commit, tmp_path
):
    call_command("load_catalog", verbosity=0)
    ai_act_classify(
        actor=Actor.system("tests"),
        system=governed_system,
        answers=Answers(annex_iii_area="5b", role="provider"),
        reasons="Creditworthiness of natural persons",
    )
    incident = _serious_incident(governed_system)
    text = _pdf(
        client_for(Role.AUDITOR), run_on_commit, tmp_path, kind="ai_act", system="loan-scoring"
    )
    assert "EU AI Act report: Loan scoring" in text
    assert "High-risk (Art. 6)" in text and "Creditworthiness of natural persons" in text
    assert "5b. Creditworthiness and credit scoring" in text
    assert "Art. 43" in text and "Art. 49" in text and "Art. 26" not in text
    # GOVERN 1.1 carries the risk committee minutes; Art. 43 and Art. 49 map to it.
    assert "GOVERN 1.1" in text and "Risk committee minutes" in text
    assert incident.ref in text and "Not submitted: overdue" in text
    assert "NIST AI RMF coverage" not in text  # the NIST report has those sections


def test_the_authority_report_is_prefilled_from_the_incident(
    governed_system, client_for, run_on_commit, tmp_path
):
    call_command("load_catalog", verbosity=0)
    ai_act_classify(
        actor=Actor.system("tests"),
        system=governed_system,
        answers=Answers(annex_iii_area="5b", role="provider"),
        reasons="Creditworthiness",
    )
    auditor = client_for(Role.AUDITOR)
    incident = _serious_incident(governed_system)
    refused = request_report(auditor, run_on_commit, kind="serious_incident")
    assert refused.status_code == 400
    text = _pdf(auditor, run_on_commit, tmp_path, kind="serious_incident", incident=incident.number)
    assert "Serious incident report to the market surveillance authority" in text
    assert "Widespread infringement" in text and "Overdue" in text
    assert "Rolled back to 4.1 at 10:12" in text  # the timeline
    assert "Loan scoring" in text and "Creditworthiness" in text


def test_an_incident_not_marked_serious_gets_no_authority_report(
    governed_system, client_for, run_on_commit
):
    from governance.incidents.models import SeverityLevel
    from governance.incidents.services import incident_open
    from governance.incidents.severity import severity_levels_ensure

    severity_levels_ensure()
    incident = incident_open(
        actor=Actor.system("tests"),
        title="Minor drift",
        severity=SeverityLevel.objects.get(code="SEV4"),
        systems=[governed_system],
        commander=governed_system.owner,
    )
    response = request_report(
        client_for(Role.AUDITOR), run_on_commit, kind="serious_incident", incident=incident.number
    )
    assert response.status_code == 400
    assert "not marked as a serious incident" in response.json()["detail"]
