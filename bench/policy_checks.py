"""Policy checks and Kubernetes admission reviews through gunicorn at 1, 4 and 16 concurrent
clients, beside a trivial authenticated endpoint (GET /api/v1/me) through the same server and
against the raw in-process evaluation of the same input, all timed in the same run.

The end-to-end path is what a pipeline or the API server pays: HTTP, token authentication,
the inventory and coverage reads that build the input, the engine, and the decision log
INSERT. The ratios to the trivial endpoint travel between machines; absolute numbers less so.
"""

import http.client
import json
import os
import signal
import statistics
import threading
import time

from bench.server import free_port, percentile, start_gunicorn
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
from governance.webhooks.environments import environment_mapping_save

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REQUESTS = {1: int(400 * SCALE), 4: int(1600 * SCALE), 16: int(3200 * SCALE)}
WORKERS = 4
BODY = json.dumps(
    {"system": "bench-churn", "model_version": "2.0", "environment": "staging", "requester": "ci"}
).encode()
NAMES = {"governance.ai/system": "bench-churn", "governance.ai/model-version": "2.0"}
ADMISSION = json.dumps(
    {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "churn",
            "namespace": "bench-staging",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": []},
            "object": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "churn", "namespace": "bench-staging", "labels": NAMES},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "churn"}},
                    "template": {
                        "metadata": {"labels": {"app": "churn", **NAMES}},
                        "spec": {"containers": [{"name": "churn", "image": "churn:2.0"}]},
                    },
                },
            },
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }
).encode()


def _policy_ok(status: int, body: bytes) -> bool:
    return status == 200 and json.loads(body)["allow"]


def _admission_ok(status: int, body: bytes) -> bool:
    return status == 200 and json.loads(body)["response"]["allowed"]


def _me_ok(status: int, body: bytes) -> bool:
    return status == 200


# (bench name, method, path, body, check)
TARGETS = [
    ("trivial.me_http", "GET", "/api/v1/me", None, _me_ok),
    ("policy.check_http", "POST", "/api/v1/policy/check", BODY, _policy_ok),
    ("k8s.admission_http", "POST", "/webhooks/k8s/admission", ADMISSION, _admission_ok),
]


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


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
    environment_mapping_save(
        actor=actor,
        source="namespace",
        name="bench-staging",
        environment="staging",
        reason="the benchmark's namespace",
    )
    _, secret = api_token_create(
        actor=Actor.for_user(owner), name="bench", scopes=[Perm.POLICY_CHECK, Perm.ACCOUNT_VIEW]
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


def _load(
    port: int, token: str, clients: int, total: int, target: tuple = TARGETS[1]
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = total // clients
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    _, method, path, payload, ok = target

    def client() -> None:
        nonlocal errors
        mine = []
        for _ in range(per_client):
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request(method, path, payload, headers)
                response = conn.getresponse()
                status, body = response.status, response.read()
            except OSError:  # a timeout is an error to count, not a client thread to lose
                status, body = 0, b""
            finally:
                conn.close()
            mine.append((time.perf_counter() - started) * 1000)
            if status == 0 or not ok(status, body):
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
        p99_ms=round(percentile(raw, 0.99), 3),
    )
    port = free_port()
    # The bench measures the decision path, not the per-token budgets (thousands a minute).
    env = {f"TOKEN_RATE_LIMIT_{name}": "0" for name in ("POLICY_CHECK", "ADMISSION", "READ")}
    server = start_gunicorn("governance.wsgi", port, env, "--workers", str(WORKERS))
    try:
        for target in TARGETS:
            _load(port, token, 4, 200, target)  # warm every worker: connections, policy
        for clients, total in REQUESTS.items():
            # Interleaved per concurrency level, so the three see the same machine load.
            measured = {}
            for target in TARGETS:
                latencies, seconds, errors = _load(port, token, clients, total, target)
                measured[target[0]] = (latencies, len(latencies) / seconds, errors)
            trivial_median = statistics.median(measured["trivial.me_http"][0])
            trivial_rate = measured["trivial.me_http"][1]
            for name, (latencies, rate, errors) in measured.items():
                median = statistics.median(latencies)
                fields = {
                    "bench": name,
                    "clients": clients,
                    "requests": len(latencies),
                    "errors": errors,
                    "median_ms": round(median, 2),
                    "p99_ms": round(percentile(latencies, 0.99), 2),
                    "requests_per_s": round(rate, 1),
                    "gunicorn_workers": WORKERS,
                }
                if name != "trivial.me_http":
                    fields.update(
                        median_vs_trivial=round(median / trivial_median, 2),
                        throughput_vs_trivial=round(rate / trivial_rate, 2),
                        median_vs_raw_evaluation=round(median / raw_median, 1),
                    )
                _emit(**fields)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
