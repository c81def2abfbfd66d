"""Policy checks through gunicorn at 1, 4 and 16 concurrent clients, against the raw
in-process evaluation of the same input, timed in the same run.

The end-to-end path is what a pipeline pays: HTTP, token authentication, the inventory and
coverage reads that build the input, the engine, and the decision log INSERT.
"""

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from governance.accounts.models import Role, User
from governance.accounts.permissions import Perm
from governance.accounts.services import api_token_create
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create, dataset_create, model_version_register
from governance.policy.engines.embedded import EmbeddedEngine
from governance.policy.inputs import deployment_input
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import policy_directory_load, snapshot_of

ROOT = Path(__file__).resolve().parent.parent
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REQUESTS = {1: int(400 * SCALE), 4: int(1600 * SCALE), 16: int(3200 * SCALE)}
WORKERS = 4
BODY = json.dumps(
    {"system": "bench-churn", "model_version": "2.0", "environment": "staging", "requester": "ci"}
).encode()


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _setup() -> str:
    actor = Actor.system("bench")
    owner = User.objects.create_user(username="bench-policy-owner", password=None, role=Role.ADMIN)
    catalog_load(actor=actor)
    dataset = dataset_create(
        actor=actor,
        slug="bench-crm",
        name="CRM",
        source="s3://crm",
        owner=owner,
        classification="internal",
        lineage_uri="https://lineage.example/crm",
    )
    system = ai_system_create(
        actor=actor, slug="bench-churn", name="Churn", owner=owner, risk_tier="medium"
    )
    model_version_register(
        actor=actor,
        system=system,
        version="2.0",
        framework="sklearn",
        artifact_format="onnx",
        datasets=[dataset],
        code_commit_sha="a" * 40,
        parameters={"depth": 6},
        evaluation=[{"metric": "auc", "value": 0.91, "threshold": 0.8}],
    )
    policy_directory_load(actor=actor)
    _, secret = api_token_create(
        actor=Actor.for_user(owner), name="bench", scopes=[Perm.POLICY_CHECK]
    )
    return secret


def _raw_evaluation() -> list[float]:
    request = deployment_request_resolve(
        system_slug="bench-churn", version="2.0", environment="staging", requester="ci"
    )
    document = deployment_input(request)
    from governance.policy.models import PolicyVersion

    snapshot = snapshot_of(PolicyVersion.objects.get(status="active"))
    from governance.policy.engines.embedded import _QUERY, evaluate_query

    evaluate_query(snapshot, _QUERY, document)  # compile once, as a warm worker has
    samples = []
    for _ in range(int(2000 * SCALE)):
        started = time.perf_counter()
        evaluate_query(snapshot, _QUERY, document)
        samples.append((time.perf_counter() - started) * 1000)
    assert EmbeddedEngine(timeout_seconds=5).evaluate(snapshot, document).allow
    return samples


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(port: int, token: str, clients: int, total: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = total // clients
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client() -> None:
        nonlocal errors
        mine = []
        for _ in range(per_client):
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/api/v1/policy/check", BODY, headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200 or not json.loads(body)["allow"]:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started, errors


def run() -> None:
    token = _setup()
    raw = _raw_evaluation()
    raw_median = statistics.median(raw)
    _emit(
        bench="policy.raw_evaluation",
        samples=len(raw),
        median_ms=round(raw_median, 3),
        p99_ms=round(_percentile(raw, 0.99), 3),
    )
    port = _free_port()
    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "governance.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        _load(port, token, 4, 200)  # warm every worker: connections, compiled policy
        for clients, total in REQUESTS.items():
            latencies, seconds, errors = _load(port, token, clients, total)
            median = statistics.median(latencies)
            _emit(
                bench="policy.check_http",
                clients=clients,
                requests=len(latencies),
                errors=errors,
                median_ms=round(median, 2),
                p99_ms=round(_percentile(latencies, 0.99), 2),
                decisions_per_s=round(len(latencies) / seconds, 1),
                median_vs_raw_evaluation=round(median / raw_median, 1),
                gunicorn_workers=WORKERS,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
