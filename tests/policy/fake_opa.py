"""A stand-in OPA server that speaks the documented Policy and Data APIs over real HTTP.

PUT /v1/policies/{id} (text/plain Rego; 400 with OPA's error shape when it does not compile),
PUT /v1/data/{path} (204), POST /v1/data/{path} with {"input": ...} -> {"result": ...} or {}
when undefined, GET /health. It evaluates with regopy, since no OPA binary can be installed here.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from regopy import Input, Interpreter
from regopy.rego_shared import RegoError


class FakeOpa:
    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: Any = None) -> None:
                raw = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                self._send(200, {}) if self.path == "/health" else self._send(404, {})

            def do_PUT(self) -> None:
                fake.requests.append(("PUT", self.path))
                body = self._body()
                if self.path.startswith("/v1/policies/"):
                    source = body.decode()
                    try:
                        Interpreter().add_module("check.rego", source)
                    except RegoError:
                        self._send(
                            400,
                            {
                                "code": "invalid_parameter",
                                "message": "error(s) occurred while compiling module(s)",
                                "errors": [{"code": "rego_parse_error", "message": "parse error"}],
                            },
                        )
                        return
                    with fake.lock:
                        fake.policies[self.path.removeprefix("/v1/policies/")] = source
                    self._send(200, {})
                elif self.path.startswith("/v1/data/"):
                    with fake.lock:
                        fake.data[self.path.removeprefix("/v1/data/")] = json.loads(body)
                    self._send(204)
                else:
                    self._send(404, {})

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                if not self.path.startswith("/v1/data/"):
                    self._send(404, {})
                    return
                if fake.delay:
                    threading.Event().wait(fake.delay)
                document = json.loads(self._body() or b"{}").get("input")
                query = "data." + self.path.removeprefix("/v1/data/").split("?")[0].replace(
                    "/", "."
                )
                with fake.lock:
                    interpreter = Interpreter()
                    for name, source in sorted(fake.policies.items()):
                        interpreter.add_module(name, source)
                    for path, value in fake.data.items():
                        for key in reversed(path.split("/")):
                            value = {key: value}
                        interpreter.add_data(value)
                interpreter.set_input(Input(document))
                output = interpreter.query(query)
                if not output.ok():
                    self._send(500, {"code": "internal_error", "message": "evaluation failed"})
                    return
                raw = str(output)
                if raw == "undefined":
                    self._send(200, {})
                    return
                self._send(200, {"result": json.loads(raw)["expressions"][0]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def forget_everything(self) -> None:
        """What an OPA restart does to pushed policies and data."""
        with self.lock:
            self.policies.clear()
            self.data.clear()

    def __enter__(self) -> "FakeOpa":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
