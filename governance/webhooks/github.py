"""The GitHub side of deployment protection rules: sign in as the GitHub App and post the
review (approved / rejected) to the event's deployment_callback_url."""

import time
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings

from governance.core.outbound import (
    OutboundError,
    OutboundRefused,
    OutboundResponse,
    outbound_request,
)

API_VERSION = "2022-11-28"
TIMEOUT = 15.0  # seconds, for connect and for each read


class GitHubError(Exception):
    """GitHub refused the request, or the App is not configured: retrying will not help."""


class GitHubUnavailable(Exception):
    """A network error, a timeout, a 5xx or a rate limit: worth retrying later."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` has the scheme, host and port of ``base`` (the SSRF guard)."""
    ours = _origin(base)
    return bool(ours[1]) and _origin(url) == ours


def _private_key() -> str:
    return settings.GITHUB_APP_PRIVATE_KEY.replace("\\n", "\n").strip()


def app_jwt(*, app_id: str, private_key: str, now: float | None = None) -> str:
    """The App's RS256 JWT: issued a minute ago (clock drift), valid nine minutes."""
    issued = int(now if now is not None else time.time())
    return jwt.encode(
        {"iss": str(app_id), "iat": issued - 60, "exp": issued + 540},
        private_key,
        algorithm="RS256",
    )


def _headers(bearer: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {bearer}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": "governance-control-plane",
    }


def _post(url: str, *, bearer: str, body: dict[str, Any] | None = None) -> OutboundResponse:
    try:
        response = outbound_request(
            "POST", url, json=body, headers=_headers(bearer), timeout=TIMEOUT
        )
    except OutboundRefused as exc:
        raise GitHubError(f"Refusing to call {url}: {exc}") from None
    except OutboundError as exc:
        raise GitHubUnavailable(f"POST {url} failed: {exc}") from None
    if response.status >= 500 or response.status == 429:
        raise GitHubUnavailable(f"POST {url} answered {response.status}.")
    return response


def installation_token(installation_id: int) -> str:
    """An installation access token, from the App's JWT."""
    if not settings.GITHUB_APP_ID or not settings.GITHUB_APP_PRIVATE_KEY:
        raise GitHubError("GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY must be set to answer GitHub.")
    try:
        token = app_jwt(app_id=settings.GITHUB_APP_ID, private_key=_private_key())
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise GitHubError(f"GITHUB_APP_PRIVATE_KEY is not a usable RSA key: {exc}") from None
    base = settings.GITHUB_API_URL.rstrip("/")
    response = _post(f"{base}/app/installations/{int(installation_id)}/access_tokens", bearer=token)
    if response.status != 201:
        raise GitHubError(
            f"GitHub refused an installation token for installation {installation_id}: "
            f"HTTP {response.status}."
        )
    try:
        return str(response.json()["token"])
    except (OutboundError, KeyError, TypeError):
        raise GitHubError("GitHub's installation token response has no token.") from None


def review_post(*, callback_url: str, installation_id: int, body: dict[str, Any]) -> int:
    """POST the review to the callback URL as the App installation; the HTTP status."""
    if not same_origin(callback_url, settings.GITHUB_API_URL):
        raise GitHubError(
            f"Refusing deployment_callback_url {callback_url!r}: it is not on GITHUB_API_URL "
            f"({settings.GITHUB_API_URL})."
        )
    token = installation_token(installation_id)
    return _post(callback_url, bearer=token, body=body).status
