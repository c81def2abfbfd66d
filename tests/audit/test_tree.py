"""The stored Merkle tree: grown incrementally from the chain, answering proofs in bounded
queries, matching an independently built tree at every size."""

import random

import pytest
from django.db import DatabaseError, connection, transaction

from governance.audit import merkle
from governance.audit.models import AuditEvent, AuditTreeHead, AuditTreeNode
from governance.audit.tree import (
    TreeIntegrityError,
    audit_tree_extend,
    tree_consistency_proof,
    tree_inclusion_proof,
    tree_root,
)
from governance.audit.triggers import create_triggers, drop_triggers
from tests.audit import merkle_reference as ref
from tests.audit.test_chain import append

pytestmark = pytest.mark.django_db


def reference_leaves() -> list[bytes]:
    hashes = AuditEvent.objects.order_by("sequence").values_list("hash", flat=True)
    return [ref.h_leaf(bytes.fromhex(h)) for h in hashes]


def test_tree_grows_in_uneven_steps_and_matches_the_reference_at_every_size():
    rng = random.Random(15)
    total = 0
    while total < 67:
        step = rng.randint(1, 9)
        append(step)
        total += step
        assert audit_tree_extend() == total
        assert AuditTreeHead.objects.get().size == total
    data = reference_leaves()
    for size in range(1, total + 1):
        assert tree_root(size) == ref.root(data[:size]), size
    # Every event hashed once: n leaves and n - popcount(n) inner nodes, nothing recomputed.
    assert AuditTreeNode.objects.filter(level=0).count() == total
    assert AuditTreeNode.objects.count() == 2 * total - bin(total).count("1")


def test_extension_in_small_batches_equals_one_big_one(monkeypatch):
    append(21)
    monkeypatch.setattr("governance.audit.tree.EXTEND_BATCH", 4)
    assert audit_tree_extend(limit=10) == 10
    assert audit_tree_extend() == 21
    assert tree_root(21) == ref.root(reference_leaves())


def test_inclusion_and_consistency_proofs_from_storage_match_the_reference():
    append(45)
    audit_tree_extend()
    data = reference_leaves()
    for size in (1, 2, 3, 7, 8, 9, 16, 31, 33, 45):
        for sequence in {1, size, (size + 1) // 2}:
            proof = tree_inclusion_proof(sequence=sequence, size=size)
            assert proof.path == ref.inclusion(sequence - 1, data[:size])
            assert proof.root == ref.root(data[:size])
            assert merkle.root_from_inclusion(sequence - 1, size, proof.leaf_hash, proof.path) == (
                proof.root
            )
        for first in {1, size // 2 or 1, size}:
            c = tree_consistency_proof(first=first, second=size)
            assert c.path == ref.consistency(first, data[:size])
            assert merkle.verify_consistency(first, size, c.first_root, c.second_root, c.path)


def test_a_proof_reads_one_batch_of_nodes(django_assert_max_num_queries):
    append(100)
    audit_tree_extend()
    with django_assert_max_num_queries(2):  # the tree size, then the nodes
        tree_inclusion_proof(sequence=37, size=99)
    with django_assert_max_num_queries(2):
        tree_consistency_proof(first=37, second=99)


def test_proofs_past_the_log_are_refused():
    append(3)
    with pytest.raises(ValueError, match="fewer than 4"):
        tree_root(4)
    with pytest.raises(ValueError, match="not in a tree"):
        tree_inclusion_proof(sequence=4, size=3)


def test_the_tree_refuses_to_grow_over_a_changed_event():
    append(4)
    audit_tree_extend()
    append(2)
    drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'forged' WHERE sequence = 5")
    create_triggers(connection)
    with pytest.raises(TreeIntegrityError, match="sequence 5"):
        audit_tree_extend()
    assert AuditTreeHead.objects.get().size == 4


def test_tree_nodes_are_append_only():
    append(2)
    audit_tree_extend()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditTreeNode.objects.filter(level=0).update(hash=b"\x00" * 32)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditTreeNode.objects.all().delete()
    assert AuditTreeNode.objects.count() == 3
