"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing and proofs, independent of storage.

Leaves are the audit events' chain hashes: leaf = SHA-256(0x00 || 32 hash bytes), node =
SHA-256(0x01 || left || right). Proof construction takes a ``subtree`` callable that returns
MTH(D[start:end]); every range the algorithms ask for is either a perfect, aligned subtree
(size a power of two, start a multiple of it: stored by the tree table) or ends at the tree's
right edge (computed from at most log2(n) perfect subtrees by ``edge_subtree``).
"""

import hashlib
from collections.abc import Callable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = Callable[[int, int], bytes]


def leaf_hash(event_hash_hex: str) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + bytes.fromhex(event_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def is_perfect(start: int, end: int) -> bool:
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, by the recursive definition (reference and tests)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(root_from_leaves(leaves[:k]), root_from_leaves(leaves[k:]))


def edge_subtree(start: int, end: int, perfect: Subtree) -> bytes:
    """MTH(D[start:end]) for any range whose pieces are perfect subtrees from the left."""
    if start >= end:
        return EMPTY_ROOT
    if is_perfect(start, end):
        return perfect(start, end)
    k = split_point(end - start)
    return node_hash(perfect(start, start + k), edge_subtree(start + k, end, perfect))


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(m, D[0:n]) of RFC 9162 section 2.1.3.1, leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, keeping the sibling of each subtree the leaf is in.
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(m, D[0:n]) of RFC 9162 section 2.1.4.1."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    if first == second:
        return []
    return _subproof(first, 0, second, True, subtree)


def _subproof(m: int, start: int, end: int, complete: bool, subtree: Subtree) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree(start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, start, start + k, complete, subtree), subtree(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, subtree), subtree(start, start + k)]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that ``path`` proves ``leaf`` under (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ValueError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("inclusion proof is too short")
    return node


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: does ``proof`` show the tree of size ``first`` is a prefix?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
