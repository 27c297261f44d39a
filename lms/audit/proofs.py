"""Proofs from the stored tree: an event's inclusion proof and a checkpoint's consistency proof.

Both are computed from the leaf hashes up to the checkpoint's size (one streamed read of 32
bytes per leaf, then hashing each leaf once: about a second per million leaves). The
inclusion proof goes out as a JSON bundle that anyone can check offline with
`python -m lms.audit.proof_check` (lms/audit/proof_check.py), holding only our certificate.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.audit import merkle
from lms.audit.checkpoints import ORIGIN, ParsedNote, checkpoint_note
from lms.audit.leaves import leaf_input
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from lms.audit.proof_check import FORMAT as BUNDLE_FORMAT
from lms.audit.services import latest_checkpoint, leaf_hashes
from lms.extensions import db


def leaf_index_of(seq: int) -> int | None:
    """The leaf an event was sealed as; None while it waits for the sealer."""
    return db.session.scalar(select(AuditLeaf.index).where(AuditLeaf.event_seq == seq))


def inclusion_bundle(event: AuditEvent) -> dict[str, Any] | None:
    """The event's inclusion proof against the latest checkpoint, as a JSON-ready dict.

    None while the event is not sealed. The bundle holds the
    leaf's input (the event's non-personal fields and its commitment: nothing personal),
    the leaf index, the audit path and the signed checkpoint note.
    """
    checkpoint = latest_checkpoint()
    index = leaf_index_of(event.seq)
    if checkpoint is None or index is None or index >= checkpoint.tree_size:
        return None
    hashes = leaf_hashes(checkpoint.tree_size)
    data = leaf_input(event.seq, event.occurred_at, event.action, event.target_type, event.target_id,
                      event.actor_id, event.data, event.commitment)
    return {
        "format": BUNDLE_FORMAT,
        "log": ORIGIN,
        "event_seq": event.seq,
        "leaf_index": index,
        "leaf_input": data.decode("utf-8"),
        "tree_size": checkpoint.tree_size,
        "audit_path": [h.hex() for h in merkle.inclusion_proof(index, hashes)],
        "checkpoint": checkpoint_note(checkpoint),
    }


def consistency_with(old: ParsedNote, new: AuditCheckpoint) -> tuple[list[bytes], bool]:
    """The RFC 9162 consistency proof from a given checkpoint to a stored one, and whether it holds.

    The proof is computed from the stored leaves and checked with the RFC's verifier against
    the two signed roots: what a monitor holding only the two checkpoints would check.
    """
    if old.tree_size > new.tree_size:
        return [], False
    proof = merkle.consistency_proof(old.tree_size, leaf_hashes(new.tree_size))
    holds = merkle.verify_consistency(old.tree_size, new.tree_size, old.root, bytes.fromhex(new.root_hash), proof)
    return proof, holds


def bundle_filename(bundle: dict[str, Any]) -> str:
    return f"audit-event-{bundle['event_seq']}-proof.json"
