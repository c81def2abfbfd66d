"""RFC 9162 hashing and proofs, against an independently built tree and published vectors."""

import hashlib

import pytest

from governance.audit import merkle
from tests.audit import merkle_reference as ref

# The leaves and roots of the Certificate Transparency reference tests (RFC 6962 trees).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
SIZES = [*range(1, 70), 127, 128, 129, 255, 256, 257, 1000, 1023, 1025]


def leaves(n: int) -> list[bytes]:
    return [ref.h_leaf(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def from_list(data: list[bytes]):
    """A ``subtree`` callable over an in-memory list, computed by the reference."""
    return lambda start, end: ref.root(data[start:end])


def test_roots_match_the_certificate_transparency_vectors():
    hashed = [ref.h_leaf(leaf) for leaf in CT_LEAVES]
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root_from_leaves(hashed[:size]).hex() == expected
    assert merkle.root_from_leaves([]) == hashlib.sha256(b"").digest()


def test_leaf_hash_is_over_the_event_hash_bytes():
    event_hash = "ab" * 32
    assert merkle.leaf_hash(event_hash) == hashlib.sha256(b"\x00" + b"\xab" * 32).digest()


@pytest.mark.parametrize("size", SIZES)
def test_root_and_edge_subtrees_match_the_reference(size):
    data = leaves(size)
    assert merkle.root_from_leaves(data) == ref.root(data)
    perfect_calls = []

    def perfect(start, end):
        assert merkle.is_perfect(start, end), (start, end)
        perfect_calls.append((start, end))
        return ref.root(data[start:end])

    assert merkle.edge_subtree(0, size, perfect) == ref.root(data)
    assert len(perfect_calls) == bin(size).count("1")


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs_match_the_reference_and_verify(size):
    data = leaves(size)
    root = ref.root(data)
    indexes = {0, size - 1, size // 2, size // 3, max(0, size - 2)}
    for index in indexes:
        path = merkle.inclusion_proof(index, size, from_list(data))
        assert path == ref.inclusion(index, data)
        assert merkle.root_from_inclusion(index, size, data[index], path) == root
        if path:  # a wrong leaf, a wrong index or a cut path proves another root
            assert merkle.root_from_inclusion(index, size, data[index - 1], path) != root
            with pytest.raises(ValueError, match="too short"):
                merkle.root_from_inclusion(index, size, data[index], path[:-1])


@pytest.mark.parametrize("second", SIZES)
def test_consistency_proofs_match_the_reference_and_verify(second):
    data = leaves(second)
    firsts = {1, second, second // 2 or 1, max(1, second - 1), max(1, (second * 2) // 3)}
    for first in sorted(firsts):
        proof = merkle.consistency_proof(first, second, from_list(data))
        assert proof == ref.consistency(first, data)
        first_root, second_root = ref.root(data[:first]), ref.root(data)
        assert merkle.verify_consistency(first, second, first_root, second_root, proof)
        if first < second:
            other = ref.root([*data[: first - 1], ref.h_leaf(b"forged")])
            assert not merkle.verify_consistency(first, second, other, second_root, proof)
            assert not merkle.verify_consistency(first, second, first_root, second_root, [])


def test_proofs_refuse_positions_outside_the_tree():
    data = leaves(5)
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.inclusion_proof(5, 5, from_list(data))
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.consistency_proof(6, 5, from_list(data))
    assert not merkle.verify_consistency(0, 5, b"", b"", [])
