"""What evaluating in a killable worker process costs: the shipped policy on the corpus's
inputs, in this thread (regopy directly) and through the embedded engine's evaluation
processes, sample for sample interleaved so both see the same machine load."""

import json
import statistics
import sys
import time
from pathlib import Path

from bench.server import percentile
from governance.policy.engines.embedded import _QUERY, EmbeddedEngine, evaluate_query
from governance.policy.sources import PolicySnapshot, content_hash, read_policy_directory

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = 2000


def run() -> None:
    modules, data = read_policy_directory()
    policy = PolicySnapshot(
        number=1,
        content_hash=content_hash(modules, data),
        modules={n: s for n, s in modules.items() if not n.endswith("_test.rego")},
        data=data,
    )
    corpus = json.loads((ROOT / "tests" / "policy" / "corpus.json").read_text())
    documents = [case["input"] for case in corpus]
    engine = EmbeddedEngine(timeout_seconds=10, processes=2)
    try:
        for document in documents:  # compile on both sides first
            evaluate_query(policy, _QUERY, document)
            engine.evaluate(policy, document)
        in_thread, isolated = [], []
        for i in range(SAMPLES):
            document = documents[i % len(documents)]
            started = time.perf_counter()
            evaluate_query(policy, _QUERY, document)
            in_thread.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            engine.evaluate(policy, document)
            isolated.append((time.perf_counter() - started) * 1000)
    finally:
        engine.close()
    overhead = [b - a for a, b in zip(in_thread, isolated, strict=True)]
    print(
        json.dumps(
            {
                "bench": "policy.engine_isolation",
                "samples": SAMPLES,
                "in_thread_median_ms": round(statistics.median(in_thread), 3),
                "in_thread_p99_ms": round(percentile(in_thread, 0.99), 3),
                "isolated_median_ms": round(statistics.median(isolated), 3),
                "isolated_p99_ms": round(percentile(isolated, 0.99), 3),
                "overhead_median_ms": round(statistics.median(overhead), 3),
                "isolated_vs_in_thread": round(
                    statistics.median(isolated) / statistics.median(in_thread), 2
                ),
            }
        )
    )
    sys.stdout.flush()
