"""The numbers and flags agree everywhere: overdue reviews, gaps, the heatmap's links."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from governance.accounts.models import Role
from governance.controls.coverage import coverage_for
from governance.controls.services import catalog_load, control_implementation_update
from governance.core.actor import Actor
from tests.controls.test_mapping import sub, system

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    catalog_load(actor=Actor.system("tests"))


@pytest.fixture
def owner(make_user):
    return make_user(Role.REQUESTER, username="owner")


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner)


def _review(actor, s, code, days_ago):
    control_implementation_update(
        actor=actor,
        system=s,
        subcategory=sub(code),
        reason="r",
        status="implemented",
        last_reviewed_at=timezone.now().date() - timedelta(days=400),
        next_review_at=timezone.now().date() - timedelta(days=days_ago),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_control_past_its_review_date_counts_with_or_without_evidence(
    catalog,
    owner,
    actor,
):
    s = system(owner)
    for code in ("GOVERN 1.1", "MAP 1.1", "MEASURE 2.1"):
        _review(actor, s, code, days_ago=3)
    _review(actor, s, "MANAGE 1.1", days_ago=-30)  # due next month
    coverage = coverage_for([s])[s.pk]
    assert coverage.overdue == ["GOVERN 1.1", "MAP 1.1", "MEASURE 2.1"]
    assert sum(r.review_overdue for r in coverage.rows) == 3
    page = signed_in(owner).get("/systems/chatbot/").content.decode()
    assert "3 reviews overdue" in page
    assert page.count("overdue</td>") == 3
    portfolio = signed_in(owner).get("/portfolio/").content.decode()
    assert '<td class="num warn-text">3</td>' in portfolio


def test_the_control_page_flags_a_past_review_date(catalog, owner, actor):
    s = system(owner)
    _review(actor, s, "GOVERN 1.1", days_ago=3)
    _review(actor, s, "GOVERN 1.2", days_ago=-3)
    late = signed_in(owner).get("/systems/chatbot/controls/GOVERN 1.1/").content.decode()
    assert "review overdue" in late and "it is overdue" in late
    on_time = signed_in(owner).get("/systems/chatbot/controls/GOVERN 1.2/").content.decode()
    assert "review overdue" not in on_time


def test_gaps_only_lists_just_the_required_unimplemented_controls(
    catalog,
    owner,
    actor,
):
    s = system(owner, tier="low")
    coverage = coverage_for([s])[s.pk]
    page = signed_in(owner).get("/systems/chatbot/?controls=gaps").content.decode()
    table = page[page.index('<table class="table controls">') :]
    table = table[: table.index("</table>")]
    listed = table.count("/controls/")
    assert listed == len(coverage.gaps) and listed < len(coverage.rows)
    assert f"Gaps only ({len(coverage.gaps)})" in page


def test_heatmap_tiles_link_to_their_rows(catalog, owner):
    system(owner)
    page = signed_in(owner).get("/systems/chatbot/").content.decode()
    assert '<a href="#cat-govern-1">' in page
    assert 'id="cat-govern-1"' in page
    assert '<a href="#cat-manage-4">' in page and 'id="cat-manage-4"' in page


def test_playbook_lists_inside_an_action_render_as_lists(catalog, owner):
    system(owner)
    page = signed_in(owner).get("/systems/chatbot/controls/GOVERN 1.4/").content.decode()
    assert '<ul class="playbook-sub"><li>AI actors contact informations</li>' in page
    assert "\n- AI actors" not in page


def test_the_applicability_page_is_linked_from_the_controls_pages(catalog, owner):
    system(owner)
    client = signed_in(owner)
    for path in ("/controls/", "/systems/chatbot/"):
        assert "/controls/applicability/" in client.get(path).content.decode()
