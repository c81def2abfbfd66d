"""Every page in each role's navigation, at 1440 and 390 px: it fits the window, raises no
script or server error, and on a phone the sections sit behind a Menu button."""

import re

import pytest

from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.core.demo import DEMO_USERS, demo_seed
from governance.policy.services import policy_directory_load
from governance.releases.models import ReleaseRequest
from tests.ui.conftest import PASSWORD, PHONE, assert_fits, open_menu

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: object, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")


def test_every_navigation_page_fits_for_every_role(live_server, page, viewport, shot):
    actor = Actor.system("tests")
    catalog_load(actor=actor)
    policy_directory_load(actor=actor)
    demo_seed(actor=actor, password=PASSWORD)
    # Pages reached from the navigation with the widest content: long hashes, 72-row tables.
    details = [
        "/systems/credit-risk-scoring/",
        "/systems/credit-risk-scoring/controls/GOVERN%201.1/",
        *(f"/releases/{r.public_id}/" for r in ReleaseRequest.objects.all()),
    ]
    phone = viewport == PHONE
    for username, role, _first, _last in DEMO_USERS:
        page.context.clear_cookies()
        _sign_in(page, live_server.url, username)
        if phone:
            assert not page.locator("nav.nav").is_visible()
            open_menu(page)
            assert page.locator("nav.nav").is_visible()
            assert page.locator("text=Sign out").is_visible()
        sections = page.eval_on_selector_all(
            "nav.nav a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert sections, role
        for path in [*sections, *details]:
            response = page.goto(f"{live_server.url}{path}")
            if path in details and response.status == 403:
                continue  # this role may not read it; the role matrix covers who may
            assert response.status == 200, (role, path, response.status)
            assert_fits(page)
            name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            if path in sections or role == "admin":
                shot(f"layout-{username}-{name}")
