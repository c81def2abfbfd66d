"""Fixtures for the webhook tests: the real-world samples, a local stand-in for GitHub's API,
and an inventory with one system the policy allows and one it denies.

The stand-in GitHub starts when this file is imported, and the GitHub App settings are put in
os.environ right then: the session's Celery worker (tests/conftest.py) copies os.environ when
it starts, which is after collection, so the worker in the integration test signs in to this
server. The web side of every test gets the same values through override_settings.
"""

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from governance.accounts.models import Role
from governance.celery import app as celery_app
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create, dataset_create, model_version_register
from governance.policy.services import policy_directory_load
from tests.conftest import SHARED_DIR

SAMPLES = SHARED_DIR / "samples"

APP_ID = "424242"
INSTALLATION_ID = 987654
INSTALLATION_TOKEN = "ghs_" + "t" * 36
WEBHOOK_SECRET = "It's a Secret to Everybody"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_KEY_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
PUBLIC_KEY = _KEY.public_key()


def sample(relative: str) -> Any:
    return json.loads((SAMPLES / relative).read_text(encoding="utf-8"))


class FakeGitHub(ThreadingHTTPServer):
    """GitHub's API for one App: verifies the App JWT, hands out an installation token, and
    records every deployment protection review posted to it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.reset()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.token_requests: list[dict[str, Any]] = []
            self.reviews: list[dict[str, Any]] = []
            self.review_status = 204

    def callback_url(self, run_id: int = 1) -> str:
        return (
            f"{self.url}/repos/Codertocat/Hello-World/actions/runs/{run_id}/"
            "deployment_protection_rule"
        )


class _Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        headers = {k.lower(): v for k, v in self.headers.items()}
        prefix = "/app/installations/"
        if self.path.startswith(prefix) and self.path.endswith("/access_tokens"):
            try:
                claims = jwt.decode(
                    auth.removeprefix("Bearer "),
                    PUBLIC_KEY,
                    algorithms=["RS256"],
                    options={"require": ["iss", "iat", "exp"]},
                )
            except jwt.PyJWTError as exc:
                self._answer(401, {"message": f"bad JWT: {exc}"})
                return
            installation = self.path[len(prefix) : -len("/access_tokens")]
            with self.server.lock:
                self.server.token_requests.append(
                    {"installation": installation, "claims": claims, "headers": headers}
                )
            if claims["iss"] != APP_ID or claims["exp"] - claims["iat"] > 600:
                self._answer(401, {"message": "wrong issuer or lifetime"})
                return
            self._answer(201, {"token": INSTALLATION_TOKEN, "expires_at": "2030-01-01T00:00:00Z"})
            return
        if auth != f"Bearer {INSTALLATION_TOKEN}":
            self._answer(401, {"message": "Bad credentials"})
            return
        with self.server.lock:
            self.server.reviews.append(
                {"path": self.path, "headers": headers, "body": json.loads(raw or b"null")}
            )
            status = self.server.review_status
        self._answer(status)


FAKE_GITHUB = FakeGitHub()
threading.Thread(target=FAKE_GITHUB.serve_forever, daemon=True).start()

WORKER_ENVIRONMENT = {
    "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "GITHUB_APP_ID": APP_ID,
    "GITHUB_APP_PRIVATE_KEY": PRIVATE_KEY_PEM,
    "GITHUB_API_URL": FAKE_GITHUB.url,
}
os.environ.update(WORKER_ENVIRONMENT)


@pytest.fixture
def fake_github(settings: Any) -> Iterator[FakeGitHub]:
    settings.GITHUB_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.GITHUB_APP_ID = APP_ID
    settings.GITHUB_APP_PRIVATE_KEY = PRIVATE_KEY_PEM
    settings.GITHUB_API_URL = FAKE_GITHUB.url
    FAKE_GITHUB.reset()
    yield FAKE_GITHUB
    FAKE_GITHUB.reset()


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run queued tasks in the test process, also in the services pass (where a broker is
    configured): only the integration test talks to a real worker."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def governed(make_user: Callable[..., Any]) -> dict[str, Any]:
    """The shipped policies, active, and three systems with complete metadata:
    ``credit-scoring`` (low risk: allowed), ``fraud-detector`` (medium risk: production needs
    an approval it does not have, so it is denied) and ``triage-assistant`` (high risk: its
    missing controls are a warning outside production)."""
    actor = Actor.system("tests")
    catalog_load(actor=actor)
    policy_directory_load(actor=actor)
    owner = make_user(Role.REQUESTER, username=f"owner-{uuid.uuid4().hex[:6]}")
    dataset = dataset_create(
        actor=actor,
        slug="loans-2025",
        name="Loans 2025",
        source="s3://data/loans-2025",
        owner=owner,
        classification="internal",
        lineage_uri="https://lineage.example/loans-2025",
    )
    systems = {}
    for slug, tier in (
        ("credit-scoring", "low"),
        ("fraud-detector", "medium"),
        ("triage-assistant", "high"),
    ):
        system = ai_system_create(
            actor=actor,
            slug=slug,
            name=slug.replace("-", " ").title(),
            owner=owner,
            risk_tier=tier,
        )
        model_version_register(
            actor=actor,
            system=system,
            datasets=[dataset],
            version="1.4.0",
            framework="sklearn",
            artifact_format="onnx",
            code_commit_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
            parameters={"max_depth": 6},
            evaluation=[{"metric": "auc", "value": 0.91, "threshold": 0.8, "dataset": "holdout"}],
        )
        systems[slug] = system
    return systems
