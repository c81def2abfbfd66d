"""What the Content-Security-Policy requires of a response: the header, and HTML without
inline script, inline event handlers, javascript: URLs, inline styles or htmx filters."""

import re
from html.parser import HTMLParser

REQUIRED = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
)


def _has_filter(trigger: str) -> bool:
    """``click[ctrlKey]`` is a filter (script); ``from:input[type=checkbox]`` is a selector."""
    return "[" in re.sub(r"\b(?:from|target):\S+", "", trigger)


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            self._in_script = "src" not in names
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style=...>")
            # htmx evaluates these as script, which allowEval: false (for the CSP) refuses.
            if name.startswith("hx-on") or (name == "hx-trigger" and _has_filter(value or "")):
                self.found.append(f"<{tag} {name}=...> (htmx script)")
            if name in ("href", "src", "action") and (value or "").strip().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline <script>")


def csp_problems(path: str, response: object) -> list[str]:
    header = response.get("Content-Security-Policy", "")
    # 'none' is stricter than 'self' (evidence downloads allow nothing at all).
    problems = [
        f"{path}: CSP lacks {d}"
        for d in REQUIRED
        if d not in header and d.replace("'self'", "'none'") not in header
    ]
    if response.get("Content-Type", "").startswith("text/html") and not getattr(
        response, "streaming", False
    ):
        finder = _InlineFinder()
        finder.feed(response.content.decode("utf-8", "replace"))
        problems += [f"{path}: {what}" for what in finder.found]
    return problems
