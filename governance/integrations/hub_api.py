"""The Hugging Face Hub's HTTP API (or a mirror at another endpoint), through the product's one
guarded outbound client: a revision's file list, a file, and the first bytes of a file (HTTP
Range) for safetensors headers. The Hub answers large files with a redirect to its CDN; each
redirect target is checked by the guard again before it is followed (at most three)."""

from typing import Any
from urllib.parse import quote, urljoin

from governance.core.outbound import OutboundError, OutboundResponse, outbound_request
from governance.integrations.mlflow_api import RegistryError
from governance.integrations.models import Integration
from governance.integrations.secrets import integration_token

MAX_REDIRECTS = 3
MAX_CARD_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024 * 1024


class HubApi:
    def __init__(self, integration: Integration):
        self.base = integration.endpoint.rstrip("/")
        token = integration_token(integration)
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _get(self, url: str, *, headers: dict[str, str] | None = None, max_bytes: int) -> Any:
        sent = {**self.headers, **(headers or {})}
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response: OutboundResponse = outbound_request(
                    "GET", url, headers=sent, max_response_bytes=max_bytes
                )
            except OutboundError as exc:
                raise RegistryError(f"Hub GET {url}: {exc}") from None
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                target = urljoin(url, response.headers["location"])
                if not target.startswith(self.base):
                    sent.pop("Authorization", None)  # never hand the token to a CDN
                url = target
                continue
            if response.status not in (200, 206):
                raise RegistryError(f"Hub GET {url} answered {response.status}")
            return response
        raise RegistryError(f"Hub GET {url}: more than {MAX_REDIRECTS} redirects")

    def revision(self, repo: str, sha: str) -> dict[str, Any]:
        url = f"{self.base}/api/models/{quote(repo)}/revision/{quote(sha)}"
        try:
            return self._get(url, max_bytes=4 * 1024 * 1024).json()
        except ValueError:
            raise RegistryError(f"Hub {url} answered something not JSON") from None

    def _file_url(self, repo: str, sha: str, path: str) -> str:
        return f"{self.base}/{quote(repo)}/resolve/{quote(sha)}/{quote(path)}"

    def file(self, repo: str, sha: str, path: str, max_bytes: int = MAX_CARD_BYTES) -> bytes:
        return self._get(self._file_url(repo, sha, path), max_bytes=max_bytes).body

    def head_bytes(self, repo: str, sha: str, path: str) -> tuple[bytes, int]:
        """A safetensors file's length prefix and JSON header, and the file's total size."""
        url = self._file_url(repo, sha, path)
        first = self._get(url, headers={"Range": "bytes=0-7"}, max_bytes=64)
        total = _total(first)
        length = int.from_bytes(first.body[:8], "little")
        if len(first.body) < 8 or length > MAX_HEADER_BYTES:
            return first.body[:8], total
        rest = self._get(
            url, headers={"Range": f"bytes=8-{7 + length}"}, max_bytes=length + 16
        ).body
        return first.body[:8] + rest[:length], total


def _total(response: OutboundResponse) -> int:
    """The whole file's size from ``Content-Range: bytes 0-7/TOTAL``."""
    value = response.headers.get("content-range", "")
    if "/" in value and value.rsplit("/", 1)[1].isdigit():
        return int(value.rsplit("/", 1)[1])
    if response.status == 200:
        return len(response.body)
    raise RegistryError("the Hub did not say how large the file is (no Content-Range)")
