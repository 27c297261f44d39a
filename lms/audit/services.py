"""Recording audit events, erasing their personal fields, and reading the tree's state.

`record` only inserts rows in the caller's transaction: no lock, no read of a head. The
Merkle tree is built later by the sealer (lms/audit/sealing.py) and checked by
lms/audit/verify.py.
"""
from __future__ import annotations

import os
from typing import Any

from flask import has_request_context, request
from sqlalchemy import delete, or_, select, text

from lms.audit.leaves import SALT_BYTES, commitment
from lms.audit.merkle import EMPTY_ROOT
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPersonal
from lms.clock import now
from lms.extensions import db

# The inserting transaction's id on PostgreSQL (xid8 as a number), for the sealing rule.
_PG_XID = text("pg_current_xact_id()::text::bigint")


def record(
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    actor_label: str | None = None,
    ip: str | None = None,
    subject_label: str = "",
    **data: Any,
) -> AuditEvent:
    """Add one event and its personal fields to the caller's transaction and flush; the caller commits.

    `actor` is a User or None (system); `target` any model with an `id`; `ip` defaults to the
    current request's client (an event recorded on behalf of an earlier request names its own).
    `subject_label` names the person the event is about (an e-mail), kept with the personal fields.
    `data` holds non-personal facts only: never e-mails, addresses, passwords, tokens or answers.
    """
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
        target_id = target.id
    label = actor_label or getattr(actor, "email", None) or "system"
    address = ip if ip is not None else ((request.remote_addr or "") if has_request_context() else "")
    salt = os.urandom(SALT_BYTES)
    event = AuditEvent(
        occurred_at=now(),
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        data=data,
        commitment=commitment(salt, label, address, subject_label),
        xid=_PG_XID if db.session.get_bind().dialect.name == "postgresql" else 0,
    )
    event.personal = AuditPersonal(salt=salt, actor_label=label, ip=address, subject_label=subject_label)
    db.session.add(event)
    db.session.flush()
    return event


def erase_personal_data(user_id: int) -> int:
    """Delete the personal fields of every event that names this person; returns rows deleted.

    That is the events they did (actor), the events about them (a user target) and the events
    that carry their current e-mail as a label (a failed sign-in with their address). The
    events, leaves and checkpoints stay, and still verify: the tree holds only commitments.
    Flushes; the caller commits.
    """
    from lms.accounts.models import User

    db.session.flush()
    conditions = [AuditEvent.actor_id == user_id,
                  (AuditEvent.target_type == "user") & (AuditEvent.target_id == str(user_id))]
    email = db.session.scalar(select(User.email).where(User.id == user_id))
    named = or_(AuditPersonal.actor_label == email, AuditPersonal.subject_label == email) if email else None
    seqs = select(AuditEvent.seq).where(or_(*conditions))
    where = AuditPersonal.event_seq.in_(seqs)
    if named is not None:
        where = or_(where, named)
    result = db.session.execute(delete(AuditPersonal).where(where).execution_options(synchronize_session=False))
    db.session.expire_all()  # loaded events must not show the deleted fields
    return result.rowcount


def latest_checkpoint() -> AuditCheckpoint | None:
    """The newest signed checkpoint, or None before the first seal."""
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1))


def leaf_hashes(size: int | None = None) -> list[bytes]:
    """The first `size` leaf hashes (all when None), in tree order: the input of every proof."""
    query = select(AuditLeaf.hash).order_by(AuditLeaf.index)
    if size is not None:
        query = query.where(AuditLeaf.index < size)
    return list(db.session.scalars(query.execution_options(yield_per=50_000)))


def head() -> tuple[int, str]:
    """The latest checkpoint's tree size and root hash (hex); (0, empty-tree root) before any seal."""
    checkpoint = latest_checkpoint()
    return (checkpoint.tree_size, checkpoint.root_hash) if checkpoint else (0, EMPTY_ROOT.hex())
