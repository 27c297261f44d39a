"""Recording and verifying audit events.

Each event's hash is SHA-256(previous hash + canonical JSON of the event), so
editing, deleting or reordering any row breaks the chain from that row on.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select, text

from lms.audit.models import AuditEvent
from lms.clock import now
from lms.extensions import db

GENESIS = "0" * 64
# PostgreSQL advisory lock id that serialises appends (two appends must not share a head).
_CHAIN_LOCK = 0x6C6D7361  # "lmsa"


def _lock_chain() -> None:
    """Serialise appends until this transaction ends, so two events never share a head."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    elif dialect == "sqlite":
        # A write statement (even one that matches nothing) takes SQLite's write lock now,
        # before the head is read, instead of at the INSERT after it.
        db.session.execute(text("UPDATE audit_event SET seq = seq WHERE 0 = 1"))


def canonical_json(event: AuditEvent) -> str:
    """The event's fields in a fixed, whitespace-free JSON form."""
    body = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "data": event.data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_json(event)).encode("utf-8")).hexdigest()


def record(
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    actor_label: str | None = None,
    ip: str | None = None,
    **data: Any,
) -> AuditEvent:
    """Append one event to the chain and flush it; the caller commits.

    `actor` is a User or None (system); `target` any model with an `id`; `ip` defaults to
    the current request's client (an event recorded on behalf of an earlier request names its own).
    Never put passwords, tokens or quiz answers in `data`.
    """
    session = db.session
    _lock_chain()
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    if target is not None:
        target_type = target_type or type(target).__name__.lower()
        target_id = target.id
    event = AuditEvent(
        seq=seq,
        occurred_at=now(),
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None) or "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        ip=ip if ip is not None else ((request.remote_addr or "") if has_request_context() else ""),
        data=data,
        prev_hash=prev,
    )
    event.hash = chain_hash(prev, event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(batch_size: int = 5000, heads: Mapping[int, str] | None = None) -> VerifyResult:
    """Walk the chain in order and name the first event whose link or hash is wrong.

    A chain checks only against itself: removing its newest events, or rewriting it from some
    event on with fresh hashes, leaves a valid chain. `heads` ({seq: hash or hash prefix})
    are heads recorded outside the database, such as the "audit chain head" printed in every
    signed transcript and evidence pack; each must still be in the chain, unchanged.
    """
    heads = dict(heads or {})
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    events = db.session.scalars(query)
    try:  # a server-side cursor on PostgreSQL: close it even when we stop early
        for event in events:
            if event.seq != expected_seq:
                return VerifyResult(checked, event.seq,
                                    f"expected event #{expected_seq} next, found #{event.seq} (missing or reordered)")
            if event.prev_hash != expected_prev:
                return VerifyResult(checked, event.seq,
                                    "its link to the previous event does not match (deleted, inserted or swapped rows)")
            if chain_hash(event.prev_hash, event) != event.hash:
                return VerifyResult(checked, event.seq, "its content does not match its hash (edited)")
            recorded = heads.pop(event.seq, None)
            if recorded is not None and not event.hash.startswith(recorded.lower()):
                return VerifyResult(checked, event.seq, f"its hash is not the {recorded[:12]}… recorded outside "
                                                        "the database (the log was rewritten from here or before)")
            expected_prev, expected_seq, checked = event.hash, event.seq + 1, checked + 1
    finally:
        events.close()
    if heads:
        missing = min(heads)
        return VerifyResult(checked, missing, f"the log ends at event #{expected_seq - 1}, but event #{missing} "
                                              "was recorded outside the database (events were removed from the end)")
    return VerifyResult(checked)


def head() -> tuple[int, str]:
    """The latest event's sequence number and hash (0 and the genesis hash when empty)."""
    row = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)
