"""Checking the whole audit log: every leaf against its event, the tree against every checkpoint.

`verify` streams the leaves in index order, joined to their events and personal fields, and:

- recomputes each leaf's hash from its event row (an edited event);
- checks the indexes run 0, 1, 2, ... with an event behind each (a deleted leaf or event);
- checks the events follow the sealing order (xid, seq) (leaves swapped or reordered);
- checks each remaining personal row against the event's commitment (edited personal fields);
- recomputes the root at every stored checkpoint's size, and at the size of any checkpoint
  given from outside the database, and compares (a rewrite with fresh hashes, a truncation);
- checks every checkpoint's signature (a forged checkpoint);
- checks no committed event below the tree's end is missing from it (an event slipped in).

It names the first bad leaf and its event. Rows are streamed, never all loaded.
"""
from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select, tuple_

from lms.audit import merkle
from lms.audit.checkpoints import ParsedNote, note_text, signing_certificate_pem, verify_note
from lms.audit.leaves import commitment, leaf_input
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPersonal
from lms.signing_keys import SigningError
from lms.extensions import db


@dataclass(frozen=True)
class VerifyResult:
    leaves: int  # leaves found intact, in order, before the first problem
    checkpoints: int  # checkpoints (stored and given) whose root was recomputed and matched
    pending: int = 0  # committed events not sealed yet
    bad_leaf: int | None = None  # the first bad leaf's index
    bad_seq: int | None = None  # its event's seq, when known
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class _Expected:
    """A tree head the leaves must reproduce: a stored checkpoint or one from outside."""

    size: int
    root_hex: str  # the root in hex, or its first digits for a head printed in a document
    label: str


def _trusted_certificates(certificates: Iterable[bytes] | None) -> list[bytes]:
    if certificates is not None:
        return list(certificates)
    try:
        return [signing_certificate_pem()]
    except SigningError:
        return []


def leaf_rows(batch_size: int = 20_000) -> Select:
    """What `verify` streams: every leaf in index order with its event and personal row (also the
    verify benchmark's baseline, bench/audit_log.py)."""
    return (select(AuditLeaf.index, AuditLeaf.hash, AuditLeaf.event_seq, AuditEvent.seq, AuditEvent.xid,
                   AuditEvent.occurred_at, AuditEvent.action, AuditEvent.target_type, AuditEvent.target_id,
                   AuditEvent.actor_id, AuditEvent.data, AuditEvent.commitment, AuditPersonal.salt,
                   AuditPersonal.actor_label, AuditPersonal.ip, AuditPersonal.subject_label)
            .outerjoin(AuditEvent, AuditEvent.seq == AuditLeaf.event_seq)
            .outerjoin(AuditPersonal, AuditPersonal.event_seq == AuditLeaf.event_seq)
            .order_by(AuditLeaf.index).execution_options(yield_per=batch_size))


def verify(*, external: Iterable[ParsedNote] = (), heads: Mapping[int, str] | None = None,
           certificates: Iterable[bytes] | None = None, batch_size: int = 20_000) -> VerifyResult:
    """Check the tree, its checkpoints and `external` checkpoints (kept outside the database).

    `certificates` (PEM) are the keys checkpoints may be signed with; default the configured
    signing certificate. An external checkpoint's signature is checked the same way; its size
    may not exceed the tree's. `heads` ({tree size: root hex or its first 12+ digits}) are
    unsigned heads printed in transcripts and packs (`services.head`), checked the same way.
    """
    trusted = _trusted_certificates(certificates)
    expected: dict[int, list[_Expected]] = {}
    forged: AuditCheckpoint | None = None  # the first stored checkpoint without a good signature
    for checkpoint in db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)):
        if not any(verify_note(note_text(checkpoint), checkpoint.key_id, checkpoint.signature, cert)
                   for cert in trusted):
            forged = checkpoint
            break
        expected.setdefault(checkpoint.tree_size, []).append(
            _Expected(checkpoint.tree_size, checkpoint.root_hash, "stored checkpoint"))
    for note in external:
        if not any(verify_note(note.body, note.key_id, note.signature, cert) for cert in trusted):
            return VerifyResult(0, 0, reason=f"the given checkpoint at tree size {note.tree_size} is not signed "
                                             "by a trusted key")
        expected.setdefault(note.tree_size, []).append(_Expected(note.tree_size, note.root.hex(), "given checkpoint"))
    for size, root_hex in (heads or {}).items():
        expected.setdefault(size, []).append(_Expected(size, root_hex.lower(), "recorded head"))
    for head in expected.pop(0, ()):  # a head of the empty tree: no leaf reaches it in the loop below
        if not merkle.EMPTY_ROOT.hex().startswith(head.root_hex):
            return VerifyResult(0, 0, bad_leaf=0, reason=f"the {head.label} of the empty tree has the wrong root")

    query = leaf_rows(batch_size)
    compact = merkle.CompactRange()
    previous_key: tuple[int, int] | None = None
    good_size = 0  # the largest size whose root matched: a rewrite starts at or after this leaf
    checked = 0

    def fail(index: int, seq: int | None, reason: str) -> VerifyResult:
        return VerifyResult(index, checked, bad_leaf=index, bad_seq=seq, reason=reason)

    def forged_result(checkpoint: AuditCheckpoint) -> VerifyResult:
        return fail(good_size, None, f"the checkpoint at tree size {checkpoint.tree_size} is not signed by a trusted "
                                     f"key (forged or rewritten): leaves from #{good_size} on are unproven")

    # Core rows, unpacked by position: the ORM's per-row work, and reading sixteen attributes
    # by name, would cost about as much as checking the row.
    rows = db.session.connection().execute(query)
    try:
        for (index, stored_hash, event_seq, seq, xid, occurred_at, action, target_type, target_id, actor_id, data,
             commitment_hex, salt, actor_label, ip, subject_label) in rows:
            i = compact.size
            if index != i:
                return fail(i, None, f"leaf #{i} is missing (leaf #{index} follows leaf #{i - 1})")
            if seq is None:
                return fail(i, event_seq, f"leaf #{i}: its event #{event_seq} is missing (deleted)")
            digest = merkle.leaf_hash(leaf_input(seq, occurred_at, action, target_type, target_id, actor_id, data,
                                                 commitment_hex))
            if digest != stored_hash:
                return fail(i, seq, f"leaf #{i} does not match its event #{seq} (edited)")
            key = (xid, seq)
            if previous_key is not None and key <= previous_key:
                first = _first_leaf_after(key)
                return fail(first, _seq_of_leaf(first), f"leaf #{first} is out of order (leaves swapped or reordered)")
            if salt is not None and not hmac.compare_digest(commitment(salt, actor_label, ip, subject_label),
                                                            commitment_hex):
                return fail(i, seq, f"leaf #{i}: the personal fields of event #{seq} do not match "
                                    "its commitment (edited)")
            previous_key = key
            compact.append(digest)
            heads = expected.get(compact.size)
            if heads:
                root = compact.root().hex()
                for head in heads:
                    if not root.startswith(head.root_hex):
                        return fail(good_size, None, f"the leaves do not give the root of the {head.label} at "
                                                     f"tree size {compact.size}: the log was rewritten between "
                                                     f"leaf #{good_size} and leaf #{compact.size - 1}")
                    checked += 1
                good_size = compact.size
            if forged is not None and compact.size == forged.tree_size:
                return forged_result(forged)
    finally:
        rows.close()
    if forged is not None:
        return forged_result(forged)
    beyond = [size for size in expected if size > compact.size]
    if beyond:
        return fail(compact.size, None, f"the tree ends at {compact.size} leaves, but a "
                                        f"{expected[min(beyond)][0].label} has {min(beyond)} "
                                        "(leaves were removed from the end)")
    if previous_key is not None:
        skipped = db.session.scalar(
            select(AuditEvent.seq).where(tuple_(AuditEvent.xid, AuditEvent.seq) < tuple_(*previous_key),
                                         ~exists().where(AuditLeaf.event_seq == AuditEvent.seq))
            .order_by(AuditEvent.seq).limit(1))
        if skipped is not None:
            return VerifyResult(compact.size, checked, bad_seq=skipped,
                                reason=f"event #{skipped} belongs before the tree's last leaf but is not in the "
                                       "tree (inserted afterwards, or its leaf was removed)")
    pending = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(~exists().where(AuditLeaf.event_seq == AuditEvent.seq)))
    return VerifyResult(compact.size, checked, pending=pending)


def _first_leaf_after(key: tuple[int, int]) -> int:
    """The first leaf whose event sorts after `key`: where the order first went wrong."""
    return db.session.scalar(select(func.min(AuditLeaf.index)).join(AuditEvent, AuditEvent.seq == AuditLeaf.event_seq)
                             .where(tuple_(AuditEvent.xid, AuditEvent.seq) > tuple_(*key)))


def _seq_of_leaf(index: int) -> int | None:
    return db.session.scalar(select(AuditLeaf.event_seq).where(AuditLeaf.index == index))
