"""A local stand-in for the Hugging Face Hub's file API, serving the fixtures a test builds:
``/api/models/{repo}/revision/{sha}``, ``/{repo}/resolve/{sha}/{file}`` (large files answer
with a redirect to ``/cdn/...``, as the Hub does), and HTTP Range on the CDN paths."""

import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HubStandIn:
    def __init__(self, repo: str, sha: str, files: dict[str, bytes]):
        self.repo, self.sha, self.files = repo, sha, files
        self.requests: list[tuple[str, str]] = []
        port = int(os.environ.get("HUB_TEST_PORT", "0"))
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                stand_in.requests.append((self.path, self.headers.get("Range", "")))
                revision = f"/api/models/{stand_in.repo}/revision/{stand_in.sha}"
                if self.path == revision:
                    siblings = [{"rfilename": name} for name in stand_in.files]
                    body = json.dumps(
                        {"id": stand_in.repo, "sha": stand_in.sha, "siblings": siblings}
                    )
                    return self._send(200, body.encode(), {"Content-Type": "application/json"})
                prefix = f"/{stand_in.repo}/resolve/{stand_in.sha}/"
                if self.path.startswith(prefix):
                    name = self.path[len(prefix) :]
                    if name not in stand_in.files:
                        return self._send(404)
                    if name.endswith(".safetensors"):
                        return self._send(302, headers={"Location": f"/cdn/{name}"})
                    return self._send(200, stand_in.files[name])
                if self.path.startswith("/cdn/"):
                    data = stand_in.files.get(self.path[5:])
                    if data is None:
                        return self._send(404)
                    match = re.match(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
                    if not match:
                        return self._send(200, data)
                    start, end = int(match.group(1)), min(int(match.group(2)), len(data) - 1)
                    return self._send(
                        206,
                        data[start : end + 1],
                        {"Content-Range": f"bytes {start}-{end}/{len(data)}"},
                    )
                return self._send(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
