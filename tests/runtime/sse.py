"""A small Server-Sent Events reader for tests: a thread parses events into a queue."""

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse


class SSEReader:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        query: str = "",
        last_event_id: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        url = urlparse(base_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
        extra = headers
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        headers.update(extra or {})
        self.connection.request("GET", f"/api/v1/kill-switches/stream{query}", headers=headers)
        self.sock = self.connection.sock  # the response takes it over from the connection
        self.response = self.connection.getresponse()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.comments = 0
        self.ended = threading.Event()
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event: dict[str, Any] = {}
        fp = self.response.fp  # close() sets the response's to None under a blocked read
        try:
            while True:
                raw = fp.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\n")
                if not line:
                    if event:
                        event["received_at"] = time.monotonic()
                        self.events.put(event)
                    event = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    field, _, value = line.partition(": ")
                    if field == "data":
                        event["data"] = json.loads(value)
                    else:
                        event[field] = value
        except (OSError, ValueError):
            pass
        finally:
            self.ended.set()

    def next(self, timeout: float = 5.0, kind: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if kind is None or event.get("event") == kind:
                return event

    def close(self) -> None:
        # The response's file keeps the socket open after connection.close(): shut it down.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def wait_for_streams_to_end(timeout: float = 10.0) -> None:
    """Streams notice a closed client at their next heartbeat write; wait for that, so no
    server thread still holds a database connection when the test database goes away."""
    from governance.runtime.streaming import active_streams

    deadline = time.monotonic() + timeout
    while active_streams() and time.monotonic() < deadline:
        time.sleep(0.1)
