"""The release pages: the queue, the request page, HTMX decisions, requester actions, admin
pages for assignments and outbound webhooks."""

import pytest
from django.test import Client

from governance.releases.models import Approval, ReleaseRequest, ReleaseState
from governance.releases.services import release_request_submit
from governance.webhooks.models import WebhookSubscription
from tests.releases.conftest import as_user, draft

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_queue_shows_what_waits_for_me_and_my_requests(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    page = browser(cast.anna).get("/releases/").content.decode()
    assert 'id="waiting-for-me"' in page and release.title in page
    mine = browser(cast.rita).get("/releases/").content.decode()
    assert 'id="my-requests"' in mine and 'id="waiting-for-me"' not in mine
    rows = browser(cast.anna).get("/releases/?state=approved", HTTP_HX_REQUEST="true")
    assert "No release requests match." in rows.content.decode()


def test_a_requester_creates_and_submits_from_the_pages(cast):
    rita = browser(cast.rita)
    answer = rita.post(
        "/releases/new",
        {
            "system": "medium-sys",
            "model_version": "9.9",
            "environment": "production",
            "title": "x",
            "change_summary": "y",
            "justification": "z",
        },
    )
    assert answer.status_code == 400 and "no registered version" in answer.content.decode()
    answer = rita.post(
        "/releases/new",
        {
            "system": "medium-sys",
            "model_version": "1.0",
            "environment": "production",
            "title": "Medium 1.0",
            "change_summary": "y",
            "justification": "z",
            "evaluation_links": "https://mlflow.example/1\n",
        },
    )
    release = ReleaseRequest.objects.get()
    assert answer.status_code == 302 and release.evaluation_links == ["https://mlflow.example/1"]
    rita.post(f"/releases/{release.public_id}/submit")
    release.refresh_from_db()
    assert release.state == ReleaseState.SUBMITTED
    page = rita.get(f"/releases/{release.public_id}/").content.decode()
    assert "someone else must approve" in page
    assert 'id="approval-form"' not in page


def test_htmx_decision_needs_a_reason_then_redirects(cast):
    release = release_request_submit(actor=as_user(cast.rita), request=draft(cast))
    anna = browser(cast.anna)
    url = f"/releases/{release.public_id}/decide"
    missing = anna.post(
        url,
        {"decision": "approve", "reason": "", "content_hash": release.content_hash},
        HTTP_HX_REQUEST="true",
    )
    # 422: the one HTMX convention (static/js/app.js swaps it in place, errors by the field).
    assert missing.status_code == 422 and "Give a reason" in missing.content.decode()
    assert "<html" not in missing.content.decode()
    stale = anna.post(
        url,
        {"decision": "approve", "reason": "ok", "content_hash": "0" * 64},
        HTTP_HX_REQUEST="true",
    )
    assert "changed after you opened it" in stale.content.decode()
    done = anna.post(
        url,
        {"decision": "approve", "reason": "ok", "content_hash": release.content_hash},
        HTTP_HX_REQUEST="true",
    )
    assert done.status_code == 204 and done["HX-Redirect"].endswith(f"{release.public_id}/")
    assert Approval.objects.count() == 1


def test_withdraw_needs_a_reason_on_the_page(cast):
    release = draft(cast)
    rita = browser(cast.rita)
    rita.post(f"/releases/{release.public_id}/withdraw", {"reason": ""})
    release.refresh_from_db()
    assert release.state == ReleaseState.DRAFT
    rita.post(f"/releases/{release.public_id}/withdraw", {"reason": "Not needed"})
    release.refresh_from_db()
    assert release.state == ReleaseState.WITHDRAWN


def test_admins_manage_assignments_and_webhooks(cast):
    ada = browser(cast.ada)
    ada.post("/releases/approvers/", {"user": "bert", "system": "high-sys", "environment": ""})
    assert "bert" in ada.get("/releases/approvers/").content.decode()
    created = ada.post(
        "/settings/webhooks/",
        {"name": "ops", "url": "https://hooks.example/x", "events": ["release.approved"]},
    )
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in created.content.decode()  # shown once, here
    assert subscription.secret not in ada.get("/settings/webhooks/").content.decode()
    assert ada.get("/settings/webhooks/deliveries/").status_code == 200
