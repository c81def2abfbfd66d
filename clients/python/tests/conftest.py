"""A small stand-in for the governance server (standard library only): OFREP bulk, the event
stream and the policy check, so the SDK's own tests need no Django. The product's suite runs
the SDK against the real server too (tests/runtime/test_sdk.py)."""

import json
import queue
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeServer:
    def __init__(self) -> None:
        self.flags = [
            {
                "key": "copilot-refunds",
                "value": False,
                "variant": "released",
                "reason": "STATIC",
                "metadata": {
                    "system": "copilot",
                    "kind": "kill_switch",
                    "version": 1,
                    "safeValue": True,
                },
            },
            {
                "key": "copilot-prompt",
                "value": "refunds-v7",
                "variant": "refunds-v7",
                "reason": "STATIC",
                "metadata": {
                    "system": "copilot",
                    "kind": "prompt_version",
                    "version": 1,
                    "safeValue": "refunds-v6",
                },
            },
        ]
        self.events: queue.Queue = queue.Queue()
        self.stream_headers: list[dict] = []
        self.bulk_calls = 0
        self.registrations: list[dict] = []  # what govctl register sent: fields and files
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status, body, headers=None):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.headers.get("Authorization") != "Bearer secret":
                    return self._json(401, {"detail": "bad token"})
                if self.path.endswith("/versions-from-artifact"):
                    return self._register(raw)
                body = json.loads(raw or b"{}")
                if self.path == "/ofrep/v1/evaluate/flags":
                    server.bulk_calls += 1
                    return self._json(
                        200,
                        {
                            "flags": server.flags,
                            "eventStreams": [
                                {"type": "sse", "url": f"{server.url}/api/v1/kill-switches/stream"}
                            ],
                        },
                        {"ETag": '"v1"'},
                    )
                if self.path == "/api/v1/policy/check":
                    allow = body["model_version"] != "9.9.9"
                    violations = (
                        []
                        if allow
                        else [
                            {"code": "evaluation.regression", "message": "accuracy fell 4 points"}
                        ]
                    )
                    return self._json(
                        200,
                        {
                            "decision_id": "d-1",
                            "allow": allow,
                            "policy_version": 3,
                            "violations": violations,
                        },
                    )
                return self._json(404, {"detail": "no such path"})

            def _register(self, raw):
                """Like POST /api/v1/systems/{slug}/versions-from-artifact: multipart in."""
                head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
                message = BytesParser(policy=HTTP).parsebytes(head + raw)
                fields, files = {}, []
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if part.get_filename():
                        files.append((part.get_filename(), part.get_payload(decode=True)))
                    else:
                        fields[name] = part.get_payload(decode=True).decode()
                slug = self.path.split("/")[4]
                server.registrations.append({"system": slug, "fields": fields, "files": files})
                problem = {"type": "about:blank", "status": 0}
                if slug == "nope":
                    return self._json(404, problem | {"status": 404, "detail": "Not found."})
                if fields.get("version") == "1.0.0":
                    return self._json(
                        409,
                        problem
                        | {
                            "status": 409,
                            "title": "Conflict",
                            "detail": f"{slug} already has a version '1.0.0'.",
                            "errors": [
                                {
                                    "pointer": "#/version",
                                    "detail": "This system already has a version.",
                                }
                            ],
                        },
                    )
                if files[0][0].endswith(".txt"):
                    return self._json(
                        422,
                        problem
                        | {
                            "status": 422,
                            "detail": "unknown: not a model file the inspector reads",
                            "errors": [
                                {
                                    "pointer": "#/file",
                                    "detail": "not a model file the inspector reads",
                                }
                            ],
                        },
                    )
                fmt = "mlmodel" if files[0][0] == "MLmodel" else "safetensors"
                return self._json(
                    201,
                    {
                        "version": {
                            "system": slug,
                            "version": fields["version"],
                            "framework": "pytorch",
                            "artifact_format": "mlflow" if fmt == "mlmodel" else fmt,
                            "artifact_sha256": "ab" * 32,
                            "artifact_uri": fields.get("artifact_uri", ""),
                            "missing_metadata": ["datasets"],
                        },
                        "inspection": {
                            "format": fmt,
                            "sha256": "ab" * 32,
                            "findings": [
                                {
                                    "code": "license.missing",
                                    "severity": "warning",
                                    "message": "no license",
                                    "location": "",
                                }
                            ],
                        },
                    },
                )

            def do_GET(self):
                server.stream_headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b"retry: 100\n\n")
                self.wfile.flush()
                while True:
                    item = server.events.get()
                    if item is None:  # end this stream
                        return
                    self.wfile.write(item.encode())
                    self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def send(self, event_id: int, kind: str, payload: dict) -> None:
        self.events.put(f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(payload)}\n\n")

    def close(self) -> None:
        self.events.put(None)
        self.httpd.shutdown()


@pytest.fixture
def server():
    fake = FakeServer()
    yield fake
    fake.close()
