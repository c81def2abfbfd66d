"""URLs made safe to show: webhook URLs often carry a token in their query string or user info."""

from urllib.parse import urlsplit, urlunsplit

REDACTED_QUERY = "?[redacted]"


def url_redacted(url: str) -> str:
    """The URL without user info, query or fragment; a removed query shows as ``?[redacted]``."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unparseable URL)"
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return shown + (REDACTED_QUERY if parts.query else "")
