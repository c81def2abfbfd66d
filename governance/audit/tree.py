"""The Merkle tree over the audit chain: grown from committed events, read for proofs.

Appends stay as cheap as before: the tree is grown after the fact from the committed, gap-free
prefix of the log (events commit in sequence order, because each commit holds the seal lock
from its first event's seal to its end). Each event is hashed into the tree once; growing
by ``k`` events writes ``k`` leaves and fewer than ``k`` inner nodes, and reads only the
``log2(n)`` nodes on the right edge. A proof reads one batch of at most ``2 * log2(n)**2``
stored nodes.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from governance.audit import merkle
from governance.audit.canonical import HASHED_FIELDS, chain_hash
from governance.audit.models import AuditEvent, AuditTreeHead, AuditTreeNode

EXTEND_BATCH = 5000


class TreeIntegrityError(RuntimeError):
    """The chain does not link on where the tree ends: the log was changed underneath it."""

    def __init__(self, sequence: int, problem: str) -> None:
        super().__init__(f"sequence {sequence}: {problem}")
        self.sequence = sequence


def _right_edge(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) that make up a tree of ``size`` leaves."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def _fetch(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = set(keys)
    if not keys:
        return {}
    condition = Q()
    for level, index in keys:
        condition |= Q(level=level, index=index)
    rows = AuditTreeNode.objects.filter(condition).values_list("level", "index", "hash")
    return {(level, index): bytes(digest) for level, index, digest in rows}


def audit_tree_extend(*, limit: int | None = None) -> int:
    """Hash committed events past the tree's size into it; returns the new size.

    Checks each event's own hash and its link to the one before, so the tree never grows over
    a chain that was changed: that raises ``TreeIntegrityError`` naming the event.
    """
    remaining = limit
    while True:
        batch = EXTEND_BATCH if remaining is None else min(EXTEND_BATCH, remaining)
        size, grew = _extend_once(batch)
        if remaining is not None:
            remaining -= grew
        if grew < batch or remaining == 0:
            return size


def _extend_once(batch: int) -> tuple[int, int]:
    with transaction.atomic():
        head, _ = AuditTreeHead.objects.select_for_update().get_or_create(id=1)
        rows = list(
            AuditEvent.objects.filter(sequence__gt=head.size)
            .order_by("sequence")
            .values(*HASHED_FIELDS, "prev_hash", "hash")[:batch]
        )
        if not rows:
            return head.size, 0
        known = _fetch(_right_edge(head.size))
        new: dict[tuple[int, int], bytes] = {}
        size, prev = head.size, head.last_event_hash
        for row in rows:
            if row["sequence"] != size + 1:
                raise TreeIntegrityError(size + 1, "missing: the log has a gap")
            if row["prev_hash"] != prev or chain_hash(prev, row) != row["hash"]:
                raise TreeIntegrityError(
                    row["sequence"], "does not match its hash or does not link to the one before"
                )
            level, index, digest = 0, size, merkle.leaf_hash(row["hash"])
            new[(0, index)] = digest
            while index & 1:  # a right child completes its parent
                left = new.get((level, index - 1)) or known[(level, index - 1)]
                level, index = level + 1, index >> 1
                digest = merkle.node_hash(left, digest)
                new[(level, index)] = digest
            size, prev = size + 1, row["hash"]
        AuditTreeNode.objects.bulk_create(
            [AuditTreeNode(level=lv, index=ix, hash=h) for (lv, ix), h in new.items()],
            batch_size=2000,
        )
        head.size, head.last_event_hash = size, prev
        head.save(update_fields=["size", "last_event_hash"])
        return size, len(rows)


def tree_size() -> int:
    return AuditTreeHead.objects.filter(id=1).values_list("size", flat=True).first() or 0


class _Recorder:
    """A dry run of a proof: records which perfect subtrees it needs."""

    def __init__(self) -> None:
        self.keys: set[tuple[int, int]] = set()

    def __call__(self, start: int, end: int) -> bytes:
        level = (end - start).bit_length() - 1
        self.keys.add((level, start >> level))
        return merkle.EMPTY_ROOT


def _with_nodes(compute):  # type: ignore[no-untyped-def]
    """Run ``compute(subtree)`` twice: once to learn the nodes, once with them fetched."""
    recorder = _Recorder()
    compute(lambda s, e: merkle.edge_subtree(s, e, recorder))
    nodes = _fetch(recorder.keys)

    def perfect(start: int, end: int) -> bytes:
        level = (end - start).bit_length() - 1
        return nodes[(level, start >> level)]

    return compute(lambda s, e: merkle.edge_subtree(s, e, perfect))


def _require(size: int) -> None:
    if size > tree_size() and size > audit_tree_extend():
        raise ValueError(f"the log has fewer than {size} events")


def tree_root(size: int) -> bytes:
    """MTH(D[0:size]) from stored nodes."""
    if size == 0:
        return merkle.EMPTY_ROOT
    _require(size)
    return _with_nodes(lambda subtree: subtree(0, size))


@dataclass(frozen=True)
class InclusionProof:
    sequence: int
    tree_size: int
    leaf_hash: bytes
    root: bytes
    path: list[bytes]


def tree_inclusion_proof(*, sequence: int, size: int) -> InclusionProof:
    if not 1 <= sequence <= size:
        raise ValueError(f"sequence {sequence} is not in a tree of size {size}")
    _require(size)

    def compute(subtree):  # type: ignore[no-untyped-def]
        return (
            subtree(sequence - 1, sequence),
            subtree(0, size),
            merkle.inclusion_proof(sequence - 1, size, subtree),
        )

    leaf, root, path = _with_nodes(compute)
    return InclusionProof(sequence, size, leaf, root, path)


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    path: list[bytes]


def tree_consistency_proof(*, first: int, second: int) -> ConsistencyProof:
    if not 1 <= first <= second:
        raise ValueError("first must be at least 1 and at most second")
    _require(second)

    def compute(subtree):  # type: ignore[no-untyped-def]
        return (
            subtree(0, first),
            subtree(0, second),
            merkle.consistency_proof(first, second, subtree),
        )

    first_root, second_root, path = _with_nodes(compute)
    return ConsistencyProof(first, second, first_root, second_root, path)


def root_from_events(events: Iterable[dict], *, size: int) -> tuple[bytes, int]:
    """The root over the first ``size`` events as they are now (no stored node trusted):
    what ``verify_audit --checkpoint`` compares with a signed checkpoint. Returns the root
    and how many events there were (fewer than ``size`` means the log was truncated)."""
    stack: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees, left to right
    count = 0
    for event in events:
        if count == size:
            break
        node, height = merkle.leaf_hash(event["hash"]), 0
        while stack and stack[-1][0] == height:
            node = merkle.node_hash(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
        count += 1
    if not stack:
        return merkle.EMPTY_ROOT, count
    root = stack.pop()[1]
    while stack:
        root = merkle.node_hash(stack.pop()[1], root)
    return root, count
