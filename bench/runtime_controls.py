"""Runtime controls at scale, through gunicorn with uvicorn (ASGI) workers on loopback.

- fanout: STREAMS concurrent stream clients (one raw socket each, in a process of their own);
  this process flips a switch FLIPS times and times, per client and flip, from the flip's
  commit to the client's receipt of the event. Reports the distribution (and each flip's p99),
  the workers' CPU per delivery, the server's memory per open stream (RSS of the workers
  before and after opening them) and page latency with every stream open.
- sdk_eval: in-process evaluation in the SDK (GovernanceProvider.value, is_engaged, and through
  the OpenFeature client) against a plain dict lookup in the same run.
- ofrep_bulk: OFREP bulk evaluation answered 304 (If-None-Match) and 200, against the trivial
  endpoint GET /api/v1/me (same stack, token auth, one query), throughput at 4 clients.
"""

import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from bench.kill_switches import read_load
from bench.server import free_port, percentile, start_gunicorn
from governance.accounts.models import Role, User
from governance.accounts.permissions import Perm
from governance.accounts.services import api_token_create
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create
from governance.runtime.services import kill_switch_create, kill_switch_engage, kill_switch_release

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
FLIPS = max(10, int(20 * SCALE))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
# uvicorn_worker.UvicornH11Worker: the pure-Python stack (asyncio loop, h11), for comparison.
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "uvicorn_worker.UvicornWorker")
READ_SECONDS = 4.0 * SCALE
# BENCH_RC_PARTS=fanout runs the fan-out alone.
PARTS = set(os.environ.get("BENCH_RC_PARTS", "sdk_eval,ofrep_bulk,fanout").split(","))


def start_asgi(port: int, redis_url: str) -> subprocess.Popen:
    env = {
        "REDIS_URL": redis_url,
        "KILL_SWITCH_STREAMS_PER_TOKEN": "0",  # one token holds every bench stream
        "OFREP_RATE_LIMIT_PER_MINUTE": "0",
        "KILL_SWITCH_STREAM_MAX_SECONDS": "600",
    }
    options = ("--workers", str(WORKERS), "--worker-class", WORKER_CLASS)
    return start_gunicorn("governance.asgi:application", port, env, *options)


def workers_cpu_seconds(master: int, fields_at: tuple[int, ...] = (11, 12)) -> float:
    """utime + stime (or one of them) of the master's children (the workers), in seconds."""
    total = 0
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            fields = (pid / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(master):  # PPid
            total += sum(int(fields[i]) for i in fields_at)
    return total / os.sysconf("SC_CLK_TCK")


def workers_threads(master: int) -> int:
    total = 0
    for pid in Path("/proc").iterdir():
        if pid.name.isdigit():
            try:
                status = (pid / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == str(master):
                total += int(fields.get("Threads", "0"))
    return total


def workers_rss_kib(master: int) -> int:
    total = 0
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            status = (pid / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def open_clients(port: int, token: str, key: str) -> tuple[object, object]:
    """STREAMS clients in a separate process (bench/stream_clients.py): they never share this
    process's GIL with the flips they time."""
    from bench import stream_clients

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=stream_clients.run, args=(theirs, port, token, key, STREAMS), daemon=True
    )
    process.start()
    if not ours.poll(180):
        process.kill()
        sys.exit(f"{STREAMS} streams did not open in 180 s")
    return process, ours


def fanout(port: int, master: int, token: str, switch: object) -> None:
    time.sleep(1)
    before = workers_rss_kib(master)
    process, pipe = open_clients(port, token, switch.key)
    _, opened, failed = pipe.recv()
    time.sleep(2)  # let the workers settle
    after = workers_rss_kib(master)
    threads = workers_threads(master)
    page = read_load(port, "/api/v1/me", token, 4)  # pages with every stream open
    actor = Actor.system("bench")
    committed: dict[int, float] = {}
    flip_ms: list[float] = []
    time.sleep(1)
    idle_from = workers_cpu_seconds(master)
    time.sleep(2)
    idle_cpu = (workers_cpu_seconds(master) - idle_from) / 2  # per second, every stream open
    cpu_from, began = workers_cpu_seconds(master), time.monotonic()
    sys_from = workers_cpu_seconds(master, (12,))
    for n in range(FLIPS):
        flip = kill_switch_engage if n % 2 == 0 else kill_switch_release
        t0 = time.monotonic()
        with transaction.atomic():
            switch = flip(actor=actor, switch=switch, reason=f"bench {n}")
            version = switch.version
            # Runs right after the commit (after the flip's own wake-up hook, which only
            # queues the publish): the clock starts when the flip is durable and visible.
            transaction.on_commit(lambda v=version: committed.__setitem__(v, time.monotonic()))
        flip_ms.append((committed[version] - t0) * 1000)
        time.sleep(0.5)  # every delivery lands before the next flip
    time.sleep(1)
    cpu = workers_cpu_seconds(master) - cpu_from - idle_cpu * (time.monotonic() - began)
    kernel = workers_cpu_seconds(master, (12,)) - sys_from
    pipe.send("dump")
    received = pipe.recv()
    process.join(5)
    latencies = [
        (at - committed[version]) * 1000
        for version, times in received.items()
        if version in committed
        for at in times
    ]
    missed = opened * FLIPS - len(latencies)
    per_flip = [
        percentile([(at - committed[v]) * 1000 for at in received.get(v, [])], 0.99)
        for v in sorted(committed)
        if received.get(v)
    ]
    print(
        json.dumps(
            {
                "bench": "stream_fanout",
                "server": f"gunicorn + {WORKERS} x {WORKER_CLASS}",
                "clients": "one process, one event loop, raw sockets",
                "streams": opened,
                "failed_to_open": failed,
                "flips": FLIPS,
                "deliveries": len(latencies),
                "missed": missed,
                "from": "flip commit to receipt",
                "min_ms": round(min(latencies), 3),
                "median_ms": round(statistics.median(latencies), 3),
                "p90_ms": round(percentile(latencies, 0.9), 3),
                "p99_ms": round(percentile(latencies, 0.99), 3),
                "max_ms": round(max(latencies), 3),
                "p99_of_each_flip_ms": [round(x, 1) for x in per_flip],
                "flip_commit_median_ms": round(statistics.median(flip_ms), 3),
                # CPU the workers spent per delivery (less their idle rate): what a flip costs
                # the server per open stream, whatever else the machine runs.
                "server_cpu_us_per_delivery": round(cpu * 1e6 / max(1, len(latencies)), 1),
                "of_which_kernel_us": round(kernel * 1e6 / max(1, len(latencies)), 1),
                "load_average_1m": os.getloadavg()[0],
                "server_rss_before_kib": before,
                "server_rss_with_streams_kib": after,
                "server_kib_per_stream": round((after - before) / max(1, opened), 1),
                "server_threads_with_streams": threads,
                "page_me_median_ms_with_streams": page["median_ms"],
                "page_me_p99_ms_with_streams": page["p99_ms"],
                "page_me_errors": page["errors"],
            }
        ),
        flush=True,
    )


def post_load(port: int, path: str, token: str, clients: int, etag: str | None) -> dict:
    """Like read_load, for OFREP's POST (optionally If-None-Match)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: set[int] = set()
    stop_at = time.perf_counter() + READ_SECONDS
    body = json.dumps({"context": {"system": "bench-rc-system"}})

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if etag:
            headers["If-None-Match"] = etag
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[n].append(time.perf_counter() - t0)
            statuses.add(response.status)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = [x * 1000 for chunk in latencies for x in chunk]
    return {
        "requests": len(flat),
        "statuses": sorted(statuses),
        "median_ms": round(statistics.median(flat), 3),
        "p99_ms": round(percentile(flat, 0.99), 3),
        "throughput_rps": round(len(flat) / (time.perf_counter() - began), 1),
    }


def ofrep_bulk(port: int, token: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/ofrep/v1/evaluate/flags",
        body=json.dumps({"context": {"system": "bench-rc-system"}}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    response.read()
    etag = response.getheader("ETag")
    base = read_load(port, "/api/v1/me", token, 4)
    not_modified = post_load(port, "/ofrep/v1/evaluate/flags", token, 4, etag)
    full = post_load(port, "/ofrep/v1/evaluate/flags", token, 4, None)
    for name, result in (("baseline_me", base), ("bulk_304", not_modified), ("bulk_200", full)):
        print(json.dumps({"bench": "ofrep_bulk", "endpoint": name, "clients": 4} | result))
    print(
        json.dumps(
            {
                "bench": "ofrep_bulk_ratio",
                "throughput_304_over_baseline": round(
                    not_modified["throughput_rps"] / base["throughput_rps"], 3
                ),
                "throughput_200_over_baseline": round(
                    full["throughput_rps"] / base["throughput_rps"], 3
                ),
            }
        ),
        flush=True,
    )


def sdk_eval() -> None:
    from governance_sdk import GovernanceProvider
    from openfeature import api

    provider = GovernanceProvider("http://127.0.0.1:9", token="unused", follow=False)  # noqa: S106
    flags = {
        f"flag-{n}": {
            "key": f"flag-{n}",
            "value": n % 2 == 0,
            "variant": "x",
            "reason": "STATIC",
            "metadata": {"version": 1, "safeValue": True},
        }
        for n in range(200)
    }
    provider.flags, provider.last_heard = flags, time.monotonic()
    plain = {k: v["value"] for k, v in flags.items()}
    api.set_provider_and_wait(provider, domain="bench")
    client = api.get_client(domain="bench")
    provider.last_heard = time.monotonic() + 3600  # fresh for the whole run
    n = int(200_000 * SCALE)

    def per_call_ns(fn) -> tuple[float, float]:
        samples = []
        for _ in range(15):
            t0 = time.perf_counter_ns()
            for _ in range(n // 15):
                fn("flag-42")
            samples.append((time.perf_counter_ns() - t0) / (n // 15))
        return statistics.median(samples), max(samples)

    base_med, _ = per_call_ns(plain.get)
    for name, fn in (
        ("provider.value", provider.value),
        ("provider.is_engaged", provider.is_engaged),
        ("openfeature_client.get_boolean_value", lambda k: client.get_boolean_value(k, True)),
    ):
        med, worst = per_call_ns(fn)
        print(
            json.dumps(
                {
                    "bench": "sdk_eval",
                    "call": name,
                    "median_ns": round(med, 1),
                    "worst_batch_ns": round(worst, 1),
                    "dict_get_median_ns": round(base_med, 1),
                    "ratio_over_dict_get": round(med / base_med, 2),
                }
            ),
            flush=True,
        )
    api.clear_providers()


def run(*, redis_url: str) -> None:
    settings.KILL_SWITCH_PUBSUB_URL = redis_url
    if "sdk_eval" in PARTS:
        sdk_eval()
    actor = Actor.system("bench")
    admin = User.objects.create_user(username="bench-rc-admin", role=Role.ADMIN, password=None)
    system = ai_system_create(
        actor=actor, slug="bench-rc-system", name="Bench system", owner=admin, risk_tier="high"
    )
    switch = kill_switch_create(actor=actor, key="bench-fanout", system=system, scope="system")
    for n in range(20):
        kill_switch_create(actor=actor, key=f"bench-flag-{n}", system=system, scope="system")
    _, token = api_token_create(
        actor=Actor.for_user(admin),
        name="bench-rc-reader",
        scopes=[Perm.KILLSWITCHES_READ, Perm.ACCOUNT_VIEW],
    )
    port = int(os.environ.get("BENCH_PORT") or free_port())
    server = start_asgi(port, redis_url)
    print(f"gunicorn + {WORKERS} uvicorn workers on 127.0.0.1:{port}", file=sys.stderr)
    try:
        if "ofrep_bulk" in PARTS:
            ofrep_bulk(port, token)
        if "fanout" in PARTS:
            fanout(port, server.pid, token, switch)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
