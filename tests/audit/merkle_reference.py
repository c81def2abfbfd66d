"""An independent RFC 6962 tree for the tests: built bottom-up level by level (a lone last
node is carried up unchanged), which is a different construction from the product's
recursive split, and proofs computed from the full levels."""

import hashlib


def h_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def levels(leaves: list[bytes]) -> list[list[bytes]]:
    out = [list(leaves)]
    while len(out[-1]) > 1:
        below = out[-1]
        above = [h_node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        out.append(above)
    return out


def root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    return levels(leaves)[-1][0]


def inclusion(index: int, leaves: list[bytes]) -> list[bytes]:
    path = []
    for level in levels(leaves)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index //= 2
    return path


def consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 section 2.1.2 SUBPROOF, computing every subtree hash from the leaves."""

    def subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [root(d)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return [*subproof(m, d[:k], complete), root(d[k:])]
        return [*subproof(m - k, d[k:], False), root(d[:k])]

    return [] if m == len(leaves) else subproof(m, leaves, True)
