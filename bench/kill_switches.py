"""Kill switch reads and flip propagation, through gunicorn on loopback.

Reads: ``GET /api/v1/kill-switches/{key}`` at 1, 4 and 16 concurrent keep-alive clients, against
``GET /api/v1/me`` (the same stack: gunicorn, Django, DRF, token authentication, one query) in
the same run, so the ratio isolates what the switch read itself costs.

Propagation: a client follows ``/api/v1/kill-switches/stream``; this process flips a switch
through the service (the same code path as the API) and times from the start of the flip to the
moment the client has parsed the event, over FLIPS flips. Fan-out goes through Redis pub/sub.
"""

import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time

from django.conf import settings

from bench.server import free_port, percentile, start_gunicorn
from governance.accounts.models import Role, User
from governance.accounts.permissions import Perm
from governance.accounts.services import api_token_create
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create
from governance.runtime.services import kill_switch_create, kill_switch_engage, kill_switch_release

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
READ_SECONDS = 4.0 * SCALE
CLIENTS = (1, 4, 16)
FLIPS = max(200, int(200 * SCALE))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "8"))


def start_reader(port: int, redis_url: str) -> subprocess.Popen:
    # The per-token limiter stays on (its cost is part of every read) with a budget that the
    # load never exhausts: the bench measures reads, not 429s.
    env = {"REDIS_URL": redis_url, "TOKEN_RATE_LIMIT_READ": "1000000000"}
    options = ("--workers", str(WORKERS), "--worker-class", "gthread", "--threads", str(THREADS))
    return start_gunicorn("governance.wsgi", port, env, *options)


def read_load(port: int, path: str, token: str, clients: int) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[int] = []
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {token}"}
        start.wait()
        mine = latencies[n]
        while time.perf_counter() < stop_at[0]:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            if response.status != 200:
                errors.append(response.status)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at.append(began + READ_SECONDS)
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = [x * 1000 for chunk in latencies for x in chunk]
    return {
        "requests": len(flat),
        "errors": len(errors),
        "median_ms": round(statistics.median(flat), 3),
        "p99_ms": round(percentile(flat, 0.99), 3),
        "throughput_rps": round(len(flat) / elapsed, 1),
    }


class StreamReader:
    def __init__(self, port: int, token: str, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request(
            "GET",
            f"/api/v1/kill-switches/stream?key={key}",
            headers={"Authorization": f"Bearer {token}"},
        )
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        data = None
        try:
            for raw in self.response.fp:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    data = line[6:]
                elif not line and data is not None:
                    self.events.put((time.perf_counter(), json.loads(data)))
                    data = None
        except (OSError, ValueError):
            pass  # closed at the end of the run


def propagation(port: int, token: str, switch: object) -> dict:
    reader = StreamReader(port, token, switch.key)
    reader.events.get(timeout=10)  # the snapshot
    actor = Actor.system("bench")
    latencies = []
    for n in range(FLIPS):
        t0 = time.perf_counter()
        if n % 2 == 0:
            switch = kill_switch_engage(actor=actor, switch=switch, reason=f"bench {n}")
        else:
            switch = kill_switch_release(actor=actor, switch=switch, reason=f"bench {n}")
        while True:
            received_at, event = reader.events.get(timeout=10)
            if event["version"] == switch.version:
                break
        latencies.append((received_at - t0) * 1000)
    reader.conn.close()
    return {
        "bench": "kill_switch_propagation",
        "flips": FLIPS,
        "median_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "max_ms": round(max(latencies), 3),
        "fanout": "redis pub/sub",
    }


def run(*, redis_url: str) -> None:
    settings.KILL_SWITCH_PUBSUB_URL = redis_url
    actor = Actor.system("bench")
    admin = User.objects.create_user(username="bench-admin", role=Role.ADMIN, password=None)
    system = ai_system_create(
        actor=actor, slug="bench-system", name="Bench system", owner=admin, risk_tier="high"
    )
    switch = kill_switch_create(actor=actor, key="bench-switch", system=system, scope="system")
    _, token = api_token_create(
        actor=Actor.for_user(admin),
        name="bench-reader",
        scopes=[Perm.KILLSWITCHES_READ, Perm.ACCOUNT_VIEW],
    )
    port = free_port()
    server = start_reader(port, redis_url)
    print(
        f"gunicorn gthread workers={WORKERS} threads={THREADS} on 127.0.0.1:{port}; "
        f"{READ_SECONDS:.0f} s per read measurement; redis {redis_url}",
        file=sys.stderr,
    )
    try:
        for path in ("/api/v1/me", f"/api/v1/kill-switches/{switch.key}"):  # warm up
            read_load(port, path, token, 2)
        for clients in CLIENTS:
            results = {}
            for name, path in (
                ("baseline_me", "/api/v1/me"),
                ("switch_read", f"/api/v1/kill-switches/{switch.key}"),
            ):
                results[name] = read_load(port, path, token, clients)
                line = {"bench": "kill_switch_reads", "endpoint": name, "clients": clients}
                print(json.dumps(line | results[name]), flush=True)
            base, read = results["baseline_me"], results["switch_read"]
            print(
                json.dumps(
                    {
                        "bench": "kill_switch_reads_ratio",
                        "clients": clients,
                        "throughput_switch_over_baseline": round(
                            read["throughput_rps"] / base["throughput_rps"], 3
                        ),
                        "median_switch_over_baseline": round(
                            read["median_ms"] / base["median_ms"], 3
                        ),
                        "p99_switch_over_baseline": round(read["p99_ms"] / base["p99_ms"], 3),
                    }
                ),
                flush=True,
            )
        print(json.dumps(propagation(port, token, switch)), flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
