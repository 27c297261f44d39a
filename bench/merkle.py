"""Benchmark of the audit log's RFC 9162 Merkle tree (lms.audit.merkle), in this process.

It times, on leaf hashes made beforehand (hashing events is not the tree's cost):

1. root: the Merkle Tree Hash of 1,000,000 leaves;
2. compact range: 20,000 leaves appended one at a time (what a sealer does for each
   event), then the same 20,000 given to ``extend`` at once, each followed by ``root()``;
3. proofs over the 1,000,000 leaves: an inclusion proof for a leaf in the middle and a
   consistency proof from 999,999 leaves, each generated and verified.

Each figure is the best of a few runs (the machine is shared; the best is the least
disturbed). Targets from issue #13: sealing at 20,000 events/s or more, and ``verify``
of 1,000,000 events in under 60 s, of which the root is one part.

Run from anywhere: `python bench/merkle.py [--leaves N] [--appends N] [--repeat N]`.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

if not __package__:  # run as a script: make `lms` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lms.audit.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

T = TypeVar("T")


def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """The shortest wall time of ``repeat`` runs of ``work``, and its last result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def appended_one_by_one(leaves: list[bytes]) -> bytes:
    """A fresh compact range fed one leaf per call, as a sealer appends each event."""
    edge = CompactRange()
    for value in leaves:
        edge.append(value)
    return edge.root()


def appended_at_once(leaves: list[bytes]) -> bytes:
    """A fresh compact range fed the whole batch in one ``extend``."""
    edge = CompactRange()
    edge.extend(leaves)
    return edge.root()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000, help="leaves for root and proofs")
    parser.add_argument("--appends", type=int, default=20_000, help="leaves for the compact range")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best kept)")
    args = parser.parse_args(argv)

    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(max(args.leaves, args.appends))]
    tree, batch = leaves[: args.leaves], leaves[: args.appends]
    rows: list[tuple[str, float, str]] = []

    seconds, tree_root = best_of(args.repeat, lambda: root(tree))
    rows.append((f"root of {len(tree):,} leaves", seconds, f"{len(tree) / seconds:,.0f} leaves/s"))

    seconds, one_by_one = best_of(args.repeat, lambda: appended_one_by_one(batch))
    rows.append((f"compact range: {len(batch):,} x append", seconds, f"{len(batch) / seconds:,.0f} leaves/s"))
    seconds, at_once = best_of(args.repeat, lambda: appended_at_once(batch))
    rows.append((f"compact range: extend({len(batch):,})", seconds, f"{len(batch) / seconds:,.0f} leaves/s"))
    if not one_by_one == at_once == root(batch):
        print("compact range root differs from root()", file=sys.stderr)
        return 1

    index = len(tree) // 2
    seconds, path = best_of(args.repeat, lambda: inclusion_proof(index, tree))
    rows.append((f"inclusion proof, leaf {index:,}", seconds, f"{len(path)} hashes"))
    seconds, ok = best_of(args.repeat, lambda: verify_inclusion(index, len(tree), tree[index], path, tree_root))
    rows.append(("  verified", seconds, "ok" if ok else "FAILED"))

    old_size = len(tree) - 1
    old_root = root(tree[:old_size])
    seconds, proof = best_of(args.repeat, lambda: consistency_proof(old_size, tree))
    rows.append((f"consistency proof, {old_size:,} -> {len(tree):,}", seconds, f"{len(proof)} hashes"))
    seconds, consistent = best_of(
        args.repeat, lambda: verify_consistency(old_size, len(tree), old_root, tree_root, proof)
    )
    rows.append(("  verified", seconds, "ok" if consistent else "FAILED"))

    width = max(len(name) for name, _, _ in rows)
    print(f"Merkle tree (RFC 9162, SHA-256), Python {sys.version.split()[0]}, best of {args.repeat}")
    for name, secs, note in rows:
        print(f"{name:<{width}}  {secs * 1000:10.1f} ms  {note}")
    return 0 if ok and consistent else 1


if __name__ == "__main__":
    sys.exit(main())
