"""A kill switch client for AI services: standard library only, copy it into your service.

It follows ``GET /api/v1/kill-switches/stream`` (Server-Sent Events) in a background thread,
keeps the last known state of every switch, and resumes with ``Last-Event-ID`` after any
disconnect, so it misses no flip. When it has heard nothing from the server (not even a
heartbeat) for ``stale_after`` seconds, it answers with each switch's declared *safe state*
instead: ``engaged`` for switches that must fail closed, ``released`` for fail-open ones.

    client = KillSwitchClient(
        "https://governance.example.com",
        token=os.environ["GOV_TOKEN"],  # an API token with the killswitches.read scope
        system="support-copilot",
    )
    client.start()
    ...
    if client.is_engaged("support-copilot-refund-tool"):
        return route_to_human(request)
"""

import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlparse


class KillSwitchClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        system: str | None = None,
        stale_after: float = 30.0,
        unknown_state: str = "engaged",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = urlparse(base_url)
        self.token = token
        self.system = system
        self.stale_after = stale_after
        self.unknown_state = unknown_state  # a switch never heard of: fail closed
        self.clock = clock
        self.switches: dict[str, dict[str, Any]] = {}
        self.last_event_id: str | None = None
        self.last_contact: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name="kill-switches", daemon=True)

    # --- what the service asks ---------------------------------------------------------------

    def state(self, key: str) -> str:
        """``engaged`` or ``released``: the last known state while fresh, else the safe state."""
        with self._lock:
            switch = self.switches.get(key)
            fresh = (
                self.last_contact is not None
                and self.clock() - self.last_contact <= self.stale_after
            )
        if switch is None:
            return self.unknown_state
        return switch["state"] if fresh else switch["safe_state"]

    def is_engaged(self, key: str) -> bool:
        return self.state(key) == "engaged"

    # --- the background stream ---------------------------------------------------------------

    def start(self) -> "KillSwitchClient":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):  # unblocks the reading thread at once
                self._socket.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        retry = 1.0
        while not self._stop.is_set():
            # Any failure: wait, reconnect, resume from the last event id.
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                retry = self._follow(retry)
            self._stop.wait(retry)

    def _follow(self, retry: float) -> float:
        connection_class = (
            http.client.HTTPSConnection
            if self.url.scheme == "https"
            else http.client.HTTPConnection
        )
        connection = connection_class(self.url.hostname, self.url.port, timeout=self.stale_after)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        query = f"?{urlencode({'system': self.system})}" if self.system else ""
        connection.request("GET", f"/api/v1/kill-switches/stream{query}", headers=headers)
        self._socket = connection.sock  # the response owns it from here on
        response = connection.getresponse()
        if response.status != 200:
            raise OSError(f"stream answered {response.status}")
        fields: dict[str, str] = {}
        try:
            while not self._stop.is_set():
                raw = response.fp.readline()
                if not raw:
                    return retry  # the server ended the stream: reconnect and resume
                with self._lock:
                    self.last_contact = self.clock()
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    continue  # heartbeat
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                    continue
                if "retry" in fields:
                    retry = int(fields["retry"]) / 1000
                if "data" in fields:
                    self._apply(fields.get("event", "message"), json.loads(fields["data"]))
                if "id" in fields:
                    self.last_event_id = fields["id"]
                fields = {}
        finally:
            response.close()
            connection.close()
        return retry

    def _apply(self, kind: str, data: Any) -> None:
        switches = data if kind == "snapshot" else [data]
        with self._lock:
            for switch in switches:
                known = self.switches.get(switch["key"])
                if known is None or known["version"] <= switch["version"]:
                    self.switches[switch["key"]] = switch


if __name__ == "__main__":
    import os
    import sys

    client = KillSwitchClient(
        os.environ.get("GOV_URL", "http://127.0.0.1:8000"),
        token=os.environ["GOV_TOKEN"],
        system=sys.argv[1] if len(sys.argv) > 1 else None,
    ).start()
    while True:
        time.sleep(2)
        print({key: client.state(key) for key in sorted(client.switches)}, flush=True)
