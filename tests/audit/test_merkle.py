"""RFC 9162 Merkle tree: published test vectors, and properties for every tree up to 70 leaves.

The implementation under test (``lms.audit.merkle``) computes subtree hashes level by level;
the reference here is the RFC's own recursive definitions (MTH, PATH, SUBPROOF of
sections 2.1.1, 2.1.3.1 and 2.1.4.1), written as literally as Python allows.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import pytest

from lms.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- Test vectors --------------------------------------------------------------------------
# The 8-leaf test tree used by Certificate Transparency implementations, copied by hand from
# github.com/transparency-dev/merkle (formerly part of Trillian): testonly/constants.go
# (LeafInputs, NodeHashes, RootHashes, CompactTrees) and proof/verify_test.go
# (inclusionProofs, consistencyProofs). verify_test.go numbers leaves from 1; the indexes
# below are 0-based, as in RFC 9162.

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# NODE_HASHES[level][i] is the hash of the perfect subtree of 2**level leaves starting at
# leaf i * 2**level.
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    [
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ],
]

# ROOTS[n] is the root of the tree of the first n leaves.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# COMPACT_RANGES[n]: the (level, index) in NODE_HASHES of each edge subtree of n leaves.
COMPACT_RANGES = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

# (leaf index, tree size, audit path)
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old size, new size, consistency path)
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

VECTOR_LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]


def _unhex(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


# --- The RFC's recursive definitions, as the reference --------------------------------------

MAX_SIZE = 70
LEAVES = tuple(leaf_hash(f"event {i}".encode()) for i in range(MAX_SIZE))


def _k(n: int) -> int:
    """The largest power of two smaller than n, by doubling (not by bit tricks)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@lru_cache(maxsize=None)
def ref_mth(start: int, end: int) -> bytes:
    """RFC 9162 2.1.1 MTH(D[start:end]) over LEAVES."""
    n = end - start
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return LEAVES[start]
    k = _k(n)
    return hashlib.sha256(b"\x01" + ref_mth(start, start + k) + ref_mth(start + k, end)).digest()


def ref_path(m: int, start: int, end: int) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(m, D[start:end]) over LEAVES."""
    n = end - start
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return ref_path(m, start, start + k) + [ref_mth(start + k, end)]
    return ref_path(m - k, start + k, end) + [ref_mth(start, start + k)]


def ref_subproof(m: int, start: int, end: int, b: bool) -> list[bytes]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[start:end], b) over LEAVES."""
    n = end - start
    if m == n:
        return [] if b else [ref_mth(start, end)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, start, start + k, b) + [ref_mth(start + k, end)]
    return ref_subproof(m - k, start + k, end, False) + [ref_mth(start, start + k)]


# A proof does not pin the tree size on its own: leaf 0's path in a tree of 3 (one sibling on
# the right, then another) has the same shape as in a tree of 4, so the same path and root
# also verify as "leaf 0 of 4". Checkpoints sign size and root together for that reason. The
# wrong-size tests below assert the exact rule: a wrong size verifies if and only if the RFC
# recursion gives it the same proof shape, and fails in every other case.


@lru_cache(maxsize=None)
def path_shape(m: int, n: int) -> tuple[str, ...]:
    """The side of each sibling in PATH(m, D[n]), leaf first (L: sibling on the left)."""
    if n <= 1:
        return ()
    k = _k(n)
    return path_shape(m, k) + ("R",) if m < k else path_shape(m - k, n - k) + ("L",)


def _subproof_shape(m: int, n: int, b: bool) -> tuple[str, ...]:
    if m == n:
        return () if b else ("given old subtree",)
    k = _k(n)
    if m <= k:
        return _subproof_shape(m, k, b) + ("R",)
    return _subproof_shape(m - k, n - k, False) + ("L",)


@lru_cache(maxsize=None)
def consistency_shape(m: int, n: int) -> tuple[str, ...] | None:
    """What each node of PROOF(m, D[n]) is; None where the RFC defines no proof."""
    return _subproof_shape(m, n, True) if 0 < m < n else None


def _flip(value: bytes, bit: int) -> bytes:
    """``value`` with one bit flipped."""
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


SIZES = range(1, MAX_SIZE + 1)


# --- Vectors ---------------------------------------------------------------------------------


def test_hash_prefixes_and_empty_root():
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    # Domain separation: a leaf made of two hashes is not the node over them.
    assert leaf_hash(b"L" * 32 + b"R" * 32) != node_hash(b"L" * 32, b"R" * 32)


def test_leaf_hashes_match_vectors():
    assert [h.hex() for h in VECTOR_LEAVES] == NODE_HASHES[0]


def test_every_perfect_subtree_matches_vectors():
    for level, hashes in enumerate(NODE_HASHES):
        width = 1 << level
        for i, expected in enumerate(hashes):
            assert root(VECTOR_LEAVES[i * width:(i + 1) * width]).hex() == expected, (level, i)


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_match_vectors(size):
    assert root(VECTOR_LEAVES[:size]).hex() == ROOTS[size]
    grown = CompactRange()
    grown.extend(VECTOR_LEAVES[:size])
    assert grown.root().hex() == ROOTS[size]
    assert grown.hashes == [bytes.fromhex(NODE_HASHES[lvl][i]) for lvl, i in COMPACT_RANGES[size]]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_PROOFS)
def test_inclusion_proofs_match_vectors(index, size, path):
    proof = inclusion_proof(index, VECTOR_LEAVES[:size])
    assert proof == _unhex(path)
    assert verify_inclusion(index, size, VECTOR_LEAVES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_PROOFS)
def test_consistency_proofs_match_vectors(old, new, path):
    proof = consistency_proof(old, VECTOR_LEAVES[:new])
    assert proof == _unhex(path)
    assert verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_vector_proofs_fail_when_tampered():
    index, size, path = INCLUSION_PROOFS[2]
    proof, good_root = _unhex(path), bytes.fromhex(ROOTS[size])
    assert not verify_inclusion(index, size, VECTOR_LEAVES[index], proof[:-1], good_root)
    assert not verify_inclusion(index, size, VECTOR_LEAVES[index], proof + [good_root], good_root)
    assert not verify_inclusion(index, size, VECTOR_LEAVES[index], [good_root] + proof, good_root)
    assert not verify_inclusion(index, size, VECTOR_LEAVES[index], proof, EMPTY_ROOT)
    old, new, cpath = CONSISTENCY_PROOFS[2]
    cproof, old_root, new_root = _unhex(cpath), bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert not verify_consistency(old, new, new_root, old_root, cproof)
    assert not verify_consistency(old, new, old_root, new_root, cproof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [cproof[0]] + cproof)
    assert not verify_consistency(old, new, old_root, new_root, cproof + [new_root])
    assert not verify_consistency(old, new, old_root, new_root, [])


# --- Edge cases of the verifiers (after transparency-dev/merkle's verify_test.go) -------------


def test_single_leaf_inclusion():
    h = leaf_hash(b"data")
    assert verify_inclusion(0, 1, h, [], h)
    assert not verify_inclusion(0, 1, h, [], EMPTY_ROOT)
    assert not verify_inclusion(0, 1, b"", [], h)
    assert not verify_inclusion(0, 1, h, [], b"")
    assert not verify_inclusion(0, 1, h, [h], h)
    # Equal but malformed leaf and root: refused for their length, not waved through.
    assert not verify_inclusion(0, 1, b"", [], b"")
    assert not verify_inclusion(0, 1, h[:31], [], h[:31])
    assert not verify_inclusion(0, 1, h.hex(), [], h.hex())


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)])
def test_inclusion_outside_the_tree_fails(index, size):
    h = leaf_hash(b"data")
    assert not verify_inclusion(index, size, h, [], h)
    assert not verify_inclusion(index, size, h, [], EMPTY_ROOT)


def test_consistency_edge_sizes():
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    # Equal sizes: equal roots and no proof.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(1, 1, a, a, [])
    assert verify_consistency(5, 5, a, a, [])
    assert not verify_consistency(1, 1, a, b, [])
    assert not verify_consistency(1, 1, a, a, [a])
    # An empty old tree: nothing to prove, but a proof or a non-empty root is refused.
    assert verify_consistency(0, 3, EMPTY_ROOT, a, [])
    assert not verify_consistency(0, 3, EMPTY_ROOT, a, [b])
    assert not verify_consistency(0, 3, a, b, [])
    # A shrinking tree, and a growing one without a proof.
    assert not verify_consistency(2, 1, a, b, [])
    assert not verify_consistency(3, 2, a, b, [a])
    assert not verify_consistency(1, 2, a, b, [])
    # Hashes that are not 32 bytes, even when equal.
    assert not verify_consistency(1, 2, a, node_hash(a, b), [b[:31]])
    assert not verify_consistency(1, 1, b"", b"", [])
    assert not verify_consistency(0, 0, b"x", b"x", [])
    assert not verify_consistency(1, 1, a.hex(), a.hex(), [])
    assert verify_consistency(1, 2, a, node_hash(a, b), [b])


def test_proof_generation_refuses_bad_arguments():
    with pytest.raises(ValueError):
        inclusion_proof(0, [])
    with pytest.raises(ValueError):
        inclusion_proof(3, LEAVES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(-1, LEAVES[:3])
    with pytest.raises(ValueError):
        consistency_proof(4, LEAVES[:3])
    with pytest.raises(ValueError):
        consistency_proof(-1, LEAVES[:3])
    assert consistency_proof(0, LEAVES[:3]) == []
    assert consistency_proof(3, LEAVES[:3]) == []


# --- Properties for every size up to MAX_SIZE ---------------------------------------------------


def test_root_equals_recursive_definition_at_every_size():
    assert root([]) == ref_mth(0, 0) == EMPTY_ROOT
    for n in SIZES:
        assert root(LEAVES[:n]) == ref_mth(0, n), n
        assert root(list(LEAVES[:n])) == ref_mth(0, n), n


def test_compact_range_root_equals_root_at_every_size():
    one_by_one = CompactRange()
    assert one_by_one.root() == EMPTY_ROOT
    for n in SIZES:
        one_by_one.append(LEAVES[n - 1])
        assert one_by_one.size == n
        assert len(one_by_one.hashes) == n.bit_count()
        assert one_by_one.root() == ref_mth(0, n), n


def test_compact_range_resumes_from_stored_state():
    for stored_size in range(0, MAX_SIZE + 1):
        first = CompactRange()
        first.extend(LEAVES[:stored_size])
        resumed = CompactRange(first.size, first.hashes)
        resumed.extend(LEAVES[stored_size:])
        assert resumed.size == MAX_SIZE
        assert resumed.root() == ref_mth(0, MAX_SIZE), stored_size


def test_compact_range_hashes_are_a_copy():
    grown = CompactRange()
    grown.extend(LEAVES[:3])
    grown.hashes.clear()
    assert grown.root() == ref_mth(0, 3)


@pytest.mark.parametrize(
    ("size", "hashes"),
    [
        (-1, []),
        (1, []),
        (3, [EMPTY_ROOT]),
        (2, [EMPTY_ROOT, EMPTY_ROOT]),
        (1, [b"short"]),
        (1, ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]),
    ],
)
def test_compact_range_refuses_inconsistent_state(size, hashes):
    with pytest.raises(ValueError):
        CompactRange(size, hashes)


def test_compact_range_refuses_a_bad_leaf_and_stays_unchanged():
    grown = CompactRange()
    grown.append(LEAVES[0])
    with pytest.raises(ValueError):
        grown.append(b"short")
    with pytest.raises(ValueError):
        grown.extend([LEAVES[1], b"short"])
    assert grown.size == 1 and grown.root() == LEAVES[0]


@pytest.mark.parametrize("n", SIZES)
def test_inclusion_proofs_at_every_size_and_index(n):
    leaves = list(LEAVES[:n])
    good_root = ref_mth(0, n)
    for i in range(n):
        proof = inclusion_proof(i, leaves)
        assert proof == ref_path(i, 0, n), (i, n)
        assert verify_inclusion(i, n, leaves[i], proof, good_root), (i, n)
        # A flipped bit anywhere in the proof, the leaf or the root.
        for j, element in enumerate(proof):
            for bit in (0, 101, 255):
                tampered = proof[:j] + [_flip(element, bit)] + proof[j + 1:]
                assert not verify_inclusion(i, n, leaves[i], tampered, good_root), (i, n, j, bit)
        for bit in (0, 101, 255):
            assert not verify_inclusion(i, n, _flip(leaves[i], bit), proof, good_root), (i, n, bit)
            assert not verify_inclusion(i, n, leaves[i], proof, _flip(good_root, bit)), (i, n, bit)
        # A neighbouring leaf's hash, a missing or an extra proof element.
        assert not verify_inclusion(i, n, leaves[(i + 1) % n], proof, good_root) or n == 1
        if proof:
            assert not verify_inclusion(i, n, leaves[i], proof[:-1], good_root), (i, n)
        assert not verify_inclusion(i, n, leaves[i], proof + [good_root], good_root), (i, n)
        # Every other index, including ones outside the tree.
        for wrong in range(-1, n + 2):
            if wrong != i:
                assert not verify_inclusion(wrong, n, leaves[i], proof, good_root), (i, n, wrong)
        # Every other size: verifies only where the RFC gives the same proof shape (see above).
        for wrong in range(0, 2 * n + 2):
            if wrong != n:
                same_shape = i < wrong and path_shape(i, wrong) == path_shape(i, n)
                assert verify_inclusion(i, wrong, leaves[i], proof, good_root) == same_shape, (i, n, wrong)


@pytest.mark.parametrize("n", SIZES)
def test_consistency_proofs_at_every_size(n):
    leaves = list(LEAVES[:n])
    new_root = ref_mth(0, n)
    for m in range(0, n + 1):
        old_root = ref_mth(0, m)
        proof = consistency_proof(m, leaves)
        expected = ref_subproof(m, 0, n, True) if 0 < m < n else []
        assert proof == expected, (m, n)
        assert verify_consistency(m, n, old_root, new_root, proof), (m, n)
        if m in (0, n):
            continue
        for j, element in enumerate(proof):
            for bit in (0, 101, 255):
                tampered = proof[:j] + [_flip(element, bit)] + proof[j + 1:]
                assert not verify_consistency(m, n, old_root, new_root, tampered), (m, n, j, bit)
        for bit in (0, 101, 255):
            assert not verify_consistency(m, n, _flip(old_root, bit), new_root, proof), (m, n, bit)
            assert not verify_consistency(m, n, old_root, _flip(new_root, bit), proof), (m, n, bit)
        # The root of a different old tree (a rewritten log) with the same sizes.
        other_old = ref_mth(1, m + 1) if m + 1 <= n else ref_mth(0, m - 1)
        assert not verify_consistency(m, n, other_old, new_root, proof), (m, n)
        assert not verify_consistency(m, n, old_root, new_root, proof[:-1]), (m, n)
        assert not verify_consistency(m, n, old_root, new_root, proof + [new_root]), (m, n)
        assert not verify_consistency(m, n, old_root, new_root, [old_root] + proof), (m, n)
        # Every other old size, every other new size, and both off by one: each verifies only
        # where the RFC gives the same proof shape (see above).
        wrong_sizes = [(wrong_m, n) for wrong_m in range(0, n + 2) if wrong_m != m]
        wrong_sizes += [(m, wrong_n) for wrong_n in range(0, 2 * n + 2) if wrong_n != n]
        wrong_sizes += [(m - 1, n - 1), (m + 1, n + 1), (m - 1, n + 1), (m + 1, n - 1)]
        for wrong_m, wrong_n in wrong_sizes:
            same_shape = consistency_shape(wrong_m, wrong_n) == consistency_shape(m, n)
            got = verify_consistency(wrong_m, wrong_n, old_root, new_root, proof)
            assert got == same_shape, (m, n, wrong_m, wrong_n)


def test_consistency_fails_for_a_log_that_was_rewritten():
    old = list(LEAVES[:20])
    rewritten = list(LEAVES[:40])
    rewritten[7] = leaf_hash(b"edited")
    proof = consistency_proof(20, rewritten)
    assert not verify_consistency(20, 40, root(old), root(rewritten), proof)
    truncated_then_regrown = list(LEAVES[:15]) + [leaf_hash(f"new {i}".encode()) for i in range(25)]
    proof = consistency_proof(20, truncated_then_regrown)
    assert not verify_consistency(20, 40, root(old), root(truncated_then_regrown), proof)


def _recursive_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1 MTH over any list, for trees larger than LEAVES."""
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return hashlib.sha256(b"\x01" + _recursive_mth(leaves[:k]) + _recursive_mth(leaves[k:])).digest()


@pytest.mark.parametrize("n", [255, 256, 257, 1023, 1024, 1025, 5000])
def test_larger_trees_around_powers_of_two(n):
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    expected = _recursive_mth(leaves)
    assert root(leaves) == expected
    grown = CompactRange()
    grown.extend(leaves[: n // 3])
    for value in leaves[n // 3:]:
        grown.append(value)
    assert grown.root() == expected
    for index in (0, 1, n // 3, n // 2, n - 2, n - 1):
        assert verify_inclusion(index, n, leaves[index], inclusion_proof(index, leaves), expected), index
    for old in (1, 2, n // 3, n // 2, n - 1):
        proof = consistency_proof(old, leaves)
        assert verify_consistency(old, n, _recursive_mth(leaves[:old]), expected, proof), old
