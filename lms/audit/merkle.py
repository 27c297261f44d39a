"""RFC 9162 Merkle tree hashing, compact ranges, inclusion and consistency proofs.

A pure module (standard library only) for the audit log's transparency tree. It follows
RFC 9162 (Certificate Transparency 2.0), section 2.1, with SHA-256:

- leaves and interior nodes are hashed with the 0x00 / 0x01 prefixes of section 2.1.1,
  so a leaf can never be passed off as an interior node;
- ``root`` is the Merkle Tree Hash (MTH) of section 2.1.1;
- ``inclusion_proof`` / ``verify_inclusion`` are sections 2.1.3.1 / 2.1.3.2;
- ``consistency_proof`` / ``verify_consistency`` are sections 2.1.4.1 / 2.1.4.2.

Every function takes leaf *hashes* (``leaf_hash`` of the leaf input), never leaf inputs,
so callers can store the 32-byte hashes and rebuild any proof from them.

The RFC defines MTH recursively (split at the largest power of two smaller than n).
Here subtree hashes are computed level by level instead: pair neighbours, and carry an
unpaired last node up unchanged. This gives the same hash as the recursive definition
(the tests check it for every size up to 70) without one Python call per node, so the
root of a million leaves takes about half a second in CPython (``bench/merkle.py``).
Proofs hash each leaf at most once, so a proof over n leaves costs O(n).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

_HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# RFC 9162 2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT: bytes = sha256(b"").digest()


def leaf_hash(leaf_input: bytes) -> bytes:
    """RFC 9162 2.1.1: MTH({d(0)}) = HASH(0x00 || d(0))."""
    return sha256(_LEAF_PREFIX + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: an interior node, HASH(0x01 || left || right)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def _reduce_level(level: Sequence[bytes]) -> list[bytes]:
    """One level up: hash neighbours in pairs; an unpaired last node moves up unchanged.

    Carrying the last node up (rather than duplicating it, as Bitcoin does) is what makes
    the level-by-level tree equal to RFC 9162's split at the largest power of two.
    """
    pairs = iter(level)
    # zip over one iterator twice walks the level two nodes at a time.
    parents = [sha256(_NODE_PREFIX + left + right).digest() for left, right in zip(pairs, pairs)]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.1: the Merkle Tree Hash of already-hashed leaves.

    MTH({}) is ``EMPTY_ROOT``; MTH of one leaf is that leaf's hash. Computed iteratively
    (see the module docstring), with the same result as the RFC's recursion. The values
    are taken to be 32-byte hashes and are not checked one by one, to keep a million
    leaves fast; a wrong value only gives a different root.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level: Sequence[bytes] = leaf_hashes
    while len(level) > 1:
        level = _reduce_level(level)
    return level[0]


def _largest_power_of_two_below(n: int) -> int:
    """RFC 9162 2.1.1's k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(hashes: Iterable[bytes], what: str) -> None:
    """Refuse anything that is not a 32-byte ``bytes`` value, naming it in the error."""
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != _HASH_SIZE:
            raise ValueError(f"{what} must be {_HASH_SIZE}-byte bytes values")


class CompactRange:
    """The right edge of a tree: the root of each perfect subtree, for appending leaves.

    A tree of ``size`` leaves splits into perfect subtrees, one per set bit of ``size``,
    largest (leftmost) first; e.g. 7 leaves -> MTH(D[0:4]), MTH(D[4:6]), MTH(D[6:7]).
    Their hashes are all that is needed to append more leaves and to compute the root
    (RFC 9162 2.1.1), so a sealer can store ``size`` and ``hashes`` and never re-read
    old leaves. This is the "compact range" of Certificate Transparency implementations.
    """

    __slots__ = ("_size", "_hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("size must be a non-negative integer")
        hashes = list(hashes)
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} edge hashes, not {len(hashes)}"
            )
        _check_hashes(hashes, "edge hashes")
        self._size = size
        self._hashes = hashes

    @property
    def size(self) -> int:
        """Number of leaves appended so far (including those before construction)."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the edge hashes, largest subtree first, for storing beside ``size``."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash at index ``size``."""
        # The check of _check_hashes, inline: a sealer or verifier appends once per event.
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != _HASH_SIZE:
            raise ValueError(f"leaf_hash must be {_HASH_SIZE}-byte bytes values")
        self._push(leaf_hash)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaf hashes in order, as ``append`` of each one would."""
        leaf_hashes = list(leaf_hashes)
        _check_hashes(leaf_hashes, "leaf hashes")
        for value in leaf_hashes:
            self._push(value)

    def _push(self, value: bytes) -> None:
        """Append a checked leaf hash, merging equal-sized subtrees like a binary carry."""
        hashes = self._hashes
        carry = self._size
        # Each trailing 1 bit of the old size is a subtree as large as the one being built:
        # merge it in (its hash is the left child) before the next larger one.
        while carry & 1:
            value = sha256(_NODE_PREFIX + hashes.pop() + value).digest()
            carry >>= 1
        hashes.append(value)
        self._size += 1

    def root(self) -> bytes:
        """RFC 9162 2.1.1: the MTH of all leaves appended; ``EMPTY_ROOT`` when there are none.

        MTH of a tree whose size is not a power of two is HASH(left perfect subtree,
        MTH(rest)), recursively, so the edge hashes fold from the smallest one leftwards.
        """
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            result = node_hash(left, result)
        return result

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1: the audit path PATH(index, D[n]) for n = len(leaf_hashes).

    The path lists sibling subtree hashes from the leaf's sibling up to the root's child.
    The RFC's recursion is unrolled from the root down (collecting siblings, then
    reversing); each sibling's hash is the MTH of a disjoint range of leaves, so the
    whole proof hashes each leaf at most once.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            siblings.append(root(leaf_hashes[split:end]))
            end = split
        else:
            siblings.append(root(leaf_hashes[start:split]))
            start = split
    siblings.reverse()
    return siblings


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: whether ``proof`` shows ``leaf_hash`` at ``index`` under ``root``.

    Follows the RFC's algorithm step by step. Malformed input (an index outside the tree,
    a hash that is not 32 bytes) is a failed proof, not an exception.

    A path does not pin the tree size by itself (leaf 0's path in a tree of 3 leaves is
    also a well-formed path in a tree of 4), so ``size`` and ``root`` must come together
    from one signed checkpoint, never from the party that supplies the proof.
    """
    if not (_is_count(index) and _is_count(size)) or index >= size:
        return False
    if not _are_hashes((leaf_hash, root, *proof)):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # When fn == sn with LSB(fn) unset, climb past the levels where this node has
            # no right sibling (it is the last node and was carried up unchanged).
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 2.1.4.1: PROOF(old_size, D[n]) for n = len(leaf_hashes).

    Equal sizes and an empty old tree need no proof (the RFC defines the proof for
    0 < old_size < n only), so both give ``[]``. The recursion SUBPROOF(m, D[n], b) is
    unrolled from the root down; every hash in the proof is the MTH of a disjoint range.
    """
    size = len(leaf_hashes)
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} is outside 0..{size}")
    if old_size in (0, size):
        return []
    # SUBPROOF works on D[start:end] with m counted from start; hashes are collected from
    # the root down and reversed at the end, as the RFC appends them on the way back up.
    collected: list[bytes] = []
    start, end, m, complete = 0, size, old_size, True
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            collected.append(root(leaf_hashes[start + k:end]))
            end = start + k
        else:
            collected.append(root(leaf_hashes[start:start + k]))
            start += k
            m -= k
            complete = False
    # SUBPROOF(m, D[m], b): with b still true this subtree is the whole old tree, whose
    # root the verifier already has, so nothing is added; otherwise its hash is given.
    if not complete:
        collected.append(root(leaf_hashes[start:end]))
    collected.reverse()
    return collected


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: whether ``proof`` shows the tree (old_size, old_root) is a prefix
    of the tree (new_size, new_root).

    The RFC's algorithm covers 0 < old_size < new_size. Outside it: equal sizes hold with an
    empty proof and equal roots; an empty old tree holds with an empty proof (nothing to
    prove) if its root is ``EMPTY_ROOT``; a shrinking tree never holds. Malformed input
    is a failed proof, not an exception. As with inclusion, each size must come with its
    root from one signed checkpoint.
    """
    if not (_is_count(old_size) and _is_count(new_size)) or old_size > new_size:
        return False
    if not _are_hashes((old_root, new_root, *proof)):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    # Step 1: an empty path proves nothing.
    if not proof:
        return False
    path = list(proof)
    # Step 2: when the old tree is a perfect subtree its root is the path's first node.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Step 3.
    fn, sn = old_size - 1, new_size - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    return fr == old_root and sr == new_root and sn == 0


def _is_count(value: object) -> bool:
    """A non-negative int (bool excluded, since True would pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _are_hashes(values: Iterable[object]) -> bool:
    """All values are 32-byte ``bytes``."""
    return all(isinstance(v, bytes) and len(v) == _HASH_SIZE for v in values)
