"""A local HTTP receiver for outbound-call tests: it records what reached it and can answer
with a redirect, so tests can prove a redirect was not followed."""

from http.server import BaseHTTPRequestHandler


class Recorder(BaseHTTPRequestHandler):
    hits: list[tuple[str, str, str]] = []

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Recorder.hits.append((self.command, self.path, self.headers.get("Host", "")))
        if self.path.startswith("/redirect"):
            self.send_response(307)
            self.send_header("Location", "/landing")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass
