"""The few HTTP calls the SDK makes, on the standard library (no client to install)."""

import json
import secrets
import urllib.error
import urllib.request
from typing import Any


class GovernanceError(Exception):
    """The server could not be reached or answered with an error."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status, self.body = status, body


def request_json(
    method: str,
    url: str,
    *,
    token: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, parsed JSON or None). 304 is an answer, not an error."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    return _send(method, url, data=data, headers=all_headers, timeout=timeout)


def request_multipart(
    url: str,
    *,
    token: str,
    fields: dict[str, str],
    files: list[tuple[str, str, bytes]],
    timeout: float = 60.0,
) -> tuple[int, dict[str, str], Any]:
    """POST multipart/form-data: ``fields`` as text parts, ``files`` as (field, name, bytes)."""
    boundary = f"govctl-{secrets.token_hex(16)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for field, filename, content in files:
        safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="{safe}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    data = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    return _send("POST", url, data=data, headers=headers, timeout=timeout)


def _send(
    method: str, url: str, *, data: bytes | None, headers: dict[str, str], timeout: float
) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        if exc.code == 304:
            return 304, dict(exc.headers), None
        detail = parsed.get("detail") if isinstance(parsed, dict) else None
        raise GovernanceError(
            f"{method} {url}: HTTP {exc.code}{': ' + detail if detail else ''}",
            status=exc.code,
            body=parsed,
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise GovernanceError(f"{method} {url}: {exc}") from exc
