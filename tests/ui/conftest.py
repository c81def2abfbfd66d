"""Browser journeys: Debian's chromium driven by Playwright, against pytest-django's live server."""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "journey-password-1"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# Chromium logs every 4xx answer as a console error; the forms answer 400/422 on purpose, so
# those are checked as responses (see page_problems), not as script errors.
STATUS_NOISE = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture(params=[pytest.param(DESKTOP, id="1440"), pytest.param(PHONE, id="390")])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return request.param


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    size = request.getfixturevalue("viewport") if "viewport" in request.fixturenames else None
    context = browser.new_context(viewport=size or {"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith(STATUS_NOISE)
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 500 or (r.status == 404 and "/static/" in r.url)
            else None
        ),
    )
    # A poll cut short by leaving the page is aborted, not failed.
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"failed {r.url}: {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "")
            else None
        ),
    )
    # And no Content-Security-Policy violation (console "Refused to ..." errors and
    # securitypolicyviolation events alike).
    page.on(
        "console",
        lambda m: (
            problems.append(f"CSP: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    context.expose_binding(
        "__cspViolation", lambda _source, text: problems.append(f"CSP violation: {text}")
    )
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolation("
        "e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' + e.documentURI));"
    )
    page.problems = problems
    yield page
    context.close()
    # Every browser test also proves the pages it walked raised no script or server error.
    assert problems == [], problems


def assert_fits(page: object) -> None:
    """No horizontal overflow: nothing makes the page wider than the window."""
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide in {widths[1]} px"
    text = page.inner_text("body")
    assert "{#" not in text and "{%" not in text, f"template syntax shows on {page.url}"


def open_menu(page: object) -> None:
    """On a phone the sections sit behind the Menu button."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def sign_out(page: object) -> None:
    open_menu(page)
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r"/login/"))


def nav_click(page: object, label: str) -> None:
    open_menu(page)
    page.locator("nav.nav a", has_text=label).first.click()


@pytest.fixture
def person(transactional_db: None) -> Callable[..., object]:
    from governance.accounts.services import user_create
    from governance.core.actor import Actor

    def make(username: str, role: str) -> object:
        return user_create(
            actor=Actor.system("tests"),
            username=username,
            role=role,
            password=PASSWORD,
            first_name=username.title(),
        )

    return make


@pytest.fixture
def sign_in(live_server: object, page: object) -> Callable[[str], object]:
    def go(username: str) -> object:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/dashboard/")
        return page

    return go


@pytest.fixture
def shot(page: object) -> Callable[[str], None]:
    def take(name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)

    return take
