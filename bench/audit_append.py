"""Audit append throughput and latency, chained versus plain INSERTs of the same rows.

Both sides go through the ORM, one row per transaction, with 1 and 4 concurrent writers; the
chained side adds what the audit log costs: the pending row, its seal at commit (the seal lock,
the hash, the move into the chain, the head update).
"""

import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, models, transaction

from governance.audit.canonical import chain_hash, json_value
from governance.audit.models import GENESIS_HASH, AuditEvent
from governance.audit.services import Target, audit_chain_verify, audit_record
from governance.core.actor import Actor

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
EVENTS_PER_WRITER = {1: int(2000 * SCALE), 4: int(800 * SCALE)}
REPETITIONS = 3
AFTER = {"risk_tier": "high", "owner": "requester", "lifecycle_stage": "production", "n": 0}


class PlainEvent(models.Model):  # noqa: DJ008 - a benchmark table, never displayed
    """The same columns as AuditEvent, without the chain: the baseline."""

    sequence = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64)
    actor_name = models.CharField(max_length=150)
    ip = models.CharField(max_length=45)
    user_agent = models.CharField(max_length=512)
    request_id = models.CharField(max_length=128)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=255)
    target_repr = models.CharField(max_length=255)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    reason = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        app_label = "bench"
        db_table = "bench_plainevent"


def actor(writer: int) -> Actor:
    return Actor(
        kind="user",
        id=str(writer),
        name=f"writer-{writer}",
        ip="10.0.0.1",
        user_agent="bench/1.0",
        request_id="0" * 32,
    )


def chained(writer: int, i: int) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor(writer),
            action="bench.system.updated",
            target=Target("inventory.aisystem", f"system-{writer}-{i}", "Bench system"),
            before={**AFTER, "n": i},
            after={**AFTER, "n": i + 1},
            reason="benchmark",
        )


def chained_in_transaction(writer: int, i: int) -> None:
    """Diagnostic only: the seal inside the change's transaction, holding the chain head until
    commit (AUDIT_SEAL="in_transaction", the append before sealing moved to commit), so the
    gain of sealing at commit is measured in the same run."""
    settings.AUDIT_SEAL = "in_transaction"
    chained(writer, i)


def _plain_row(writer: int, i: int) -> None:
    from django.utils import timezone

    fields = {
        "sequence": i,
        "occurred_at": timezone.now(),
        "actor_type": "user",
        "actor_id": str(writer),
        "actor_name": f"writer-{writer}",
        "ip": "10.0.0.1",
        "user_agent": "bench/1.0",
        "request_id": "0" * 32,
        "action": "bench.system.updated",
        "target_type": "inventory.aisystem",
        "target_id": f"system-{writer}-{i}",
        "target_repr": "Bench system",
        "before": json_value({**AFTER, "n": i}),
        "after": json_value({**AFTER, "n": i + 1}),
        "reason": "benchmark",
    }
    # The same hash work on the row, so the ratio isolates the chain's locking and head update.
    digest = chain_hash(GENESIS_HASH, fields)
    PlainEvent.objects.create(**fields, prev_hash=GENESIS_HASH, hash=digest)


def plain(writer: int, i: int) -> None:
    with transaction.atomic():
        _plain_row(writer, i)


def change_unaudited(writer: int, i: int) -> None:
    """A change as services make it, without its event: a row, then another (its timeline
    entry, its outbox message)."""
    with transaction.atomic():
        _plain_row(writer, i)
        _plain_row(writer, i)


def change_audited(writer: int, i: int) -> None:
    """The same change with its event recorded between the two writes, as services do: the
    seal lock is taken at commit, so it is not held while the rest of the change runs."""
    with transaction.atomic():
        _plain_row(writer, i)
        audit_record(
            actor=actor(writer),
            action="bench.system.updated",
            target=Target("inventory.aisystem", f"system-{writer}-{i}", "Bench system"),
            before={**AFTER, "n": i},
            after={**AFTER, "n": i + 1},
            reason="benchmark",
        )
        _plain_row(writer, i)


def change_audited_in_transaction(writer: int, i: int) -> None:
    """Diagnostic only: the same, sealing as the event is recorded (the head held from there
    to commit, across the rest of the change)."""
    settings.AUDIT_SEAL = "in_transaction"
    change_audited(writer, i)


def _writer_process(
    append: Callable[[int, int], None],
    writer: int,
    count: int,
    start_at: float,
    out: "multiprocessing.Queue",
) -> None:
    connection.close()  # never share the parent's socket across fork
    while time.time() < start_at:
        time.sleep(0.001)
    latencies = []
    for i in range(count):
        began = time.perf_counter()
        append(writer, i)
        latencies.append(time.perf_counter() - began)
    connection.close()
    out.put(latencies)


def measure(append: Callable[[int, int], None], writers: int) -> dict:
    """Writers are processes, not threads, so the Python client's GIL is not what is measured.
    Each append returns with its event sealed into the chain."""
    per_writer = EVENTS_PER_WRITER[writers]
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    connection.close()
    start_at = time.time() + 0.5
    processes = [
        context.Process(target=_writer_process, args=(append, w, per_writer, start_at, out))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    latencies = [out.get() for _ in processes]
    elapsed = time.time() - start_at
    for process in processes:
        process.join()
    flat = sorted(x for per in latencies for x in per)
    return {
        "events_per_s": len(flat) / elapsed,
        "p50_ms": flat[len(flat) // 2] * 1000,
        "p99_ms": flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000,
        "events": len(flat),
    }


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def merkle_cost(chained_4_writers_per_s: float) -> None:
    """What the Merkle tree and signed checkpoints add: the tree grows from committed events
    outside the append's lock (so the append rate above is unchanged by it); here its own rate,
    a signed checkpoint's time, a proof's time, and the combined rate if one core did both."""
    from django.conf import settings

    from governance.audit.checkpoints import audit_checkpoint_create
    from governance.audit.signing import generate_signing_key
    from governance.audit.tree import audit_tree_extend, tree_inclusion_proof

    settings.AUDIT_SIGNING_KEY = generate_signing_key("bench.governance.localhost/audit").skey
    events = AuditEvent.objects.count()
    began = time.perf_counter()
    size = audit_tree_extend()
    tree_s = time.perf_counter() - began
    signs = []
    for _ in range(5):
        began = time.perf_counter()
        audit_checkpoint_create(trigger="manual", label="bench")
        signs.append(time.perf_counter() - began)
    proofs = []
    for sequence in range(1, size, max(1, size // 50)):
        began = time.perf_counter()
        tree_inclusion_proof(sequence=sequence, size=size)
        proofs.append(time.perf_counter() - began)
    tree_rate = events / tree_s
    print(
        json.dumps(
            {
                "bench": "audit_merkle",
                "events": events,
                "tree_growth_events_per_s": round(tree_rate, 1),
                "checkpoint_sign_ms_median": round(statistics.median(signs) * 1000, 3),
                "inclusion_proof_ms_median": round(statistics.median(proofs) * 1000, 3),
                "chained_plus_tree_events_per_s_4_writers": round(
                    1 / (1 / chained_4_writers_per_s + 1 / tree_rate), 1
                ),
            }
        ),
        flush=True,
    )


def run() -> None:
    with connection.schema_editor() as editor:
        editor.create_model(PlainEvent)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    print(f"synchronous_commit={sync}; scale={SCALE}", file=sys.stderr)
    for writers in (1, 4):
        results = {}
        modes = [("plain", plain), ("chained", chained)]
        if writers == 4:
            modes.append(("chained_in_transaction_diagnostic", chained_in_transaction))
        for mode, append in modes:
            runs = [measure(append, writers) for _ in range(REPETITIONS)]
            results[mode] = median_of(runs)
            line = {
                "bench": "audit_append",
                "mode": mode,
                "writers": writers,
                "repetitions": REPETITIONS,
                "events_per_run": runs[0]["events"],
                "events_per_s_median": round(results[mode]["events_per_s"], 1),
                "p50_ms_median": round(results[mode]["p50_ms"], 3),
                "p99_ms_median": round(results[mode]["p99_ms"], 3),
            }
            print(json.dumps(line), flush=True)
        print(
            json.dumps(
                {
                    "bench": "audit_append_ratio",
                    "writers": writers,
                    "throughput_chained_over_plain": round(
                        results["chained"]["events_per_s"] / results["plain"]["events_per_s"], 3
                    ),
                    "p50_chained_over_plain": round(
                        results["chained"]["p50_ms"] / results["plain"]["p50_ms"], 3
                    ),
                    "p99_chained_over_plain": round(
                        results["chained"]["p99_ms"] / results["plain"]["p99_ms"], 3
                    ),
                    "at_commit_over_in_transaction_seal": round(
                        results["chained"]["events_per_s"]
                        / results["chained_in_transaction_diagnostic"]["events_per_s"],
                        3,
                    )
                    if writers == 4
                    else None,
                    "target_1000_per_s_with_4_writers": (
                        results["chained"]["events_per_s"] >= 1000 if writers == 4 else None
                    ),
                }
            ),
            flush=True,
        )
    chained_rate = results["chained"]["events_per_s"]
    changes = {
        mode: median_of([measure(append, 4) for _ in range(REPETITIONS)])
        for mode, append in (
            ("unaudited", change_unaudited),
            ("audited", change_audited),
            ("audited_in_transaction_diagnostic", change_audited_in_transaction),
        )
    }
    print(
        json.dumps(
            {
                "bench": "audit_append_with_change",
                "writers": 4,
                **{f"{m}_changes_per_s": round(r["events_per_s"], 1) for m, r in changes.items()},
                **{f"{m}_p99_ms": round(r["p99_ms"], 3) for m, r in changes.items()},
                "audited_over_unaudited": round(
                    changes["audited"]["events_per_s"] / changes["unaudited"]["events_per_s"], 3
                ),
                "at_commit_over_in_transaction_seal": round(
                    changes["audited"]["events_per_s"]
                    / changes["audited_in_transaction_diagnostic"]["events_per_s"],
                    3,
                ),
            }
        ),
        flush=True,
    )
    merkle_cost(chained_rate)
    outcome = audit_chain_verify()
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    print(
        json.dumps(
            {
                "bench": "audit_append_integrity",
                "events": len(sequences),
                "gap_free": sequences == list(range(1, len(sequences) + 1)),
                "chain_verifies": outcome.ok,
            }
        ),
        flush=True,
    )
