"""Audit log v2: events, their personal fields, the Merkle tree's leaves and signed checkpoints.

A request only inserts an `AuditEvent` (and its `AuditPersonal` row) in its own transaction.
The sealer (lms/audit/sealing.py) later appends committed events to an RFC 9162 Merkle tree:
one `AuditLeaf` per event and one signed `AuditCheckpoint` per seal. The leaf hashes the
event's non-personal fields and a salted commitment to its personal ones, so deleting a
person's `AuditPersonal` rows leaves every hash, checkpoint and proof valid.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, event)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lms.pseudonyms import pseudonym
from lms.clock import UTCDateTime
from lms.extensions import db


class AuditPersonal(db.Model):
    """The personal fields of one event, outside the tree: erasure deletes the row.

    `commitment` on the event is HMAC-SHA256(salt, canonical JSON of these fields); without
    the salt the commitment says nothing about them (lms/audit/leaves.py).
    """

    event_seq: Mapped[int] = mapped_column(ForeignKey("audit_event.seq"), primary_key=True,
                                           autoincrement=False)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The actor's e-mail at the time ("system" or "anonymous" when nobody signed in).
    actor_label: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64), default="")
    # The person the event is about, when it names one (the e-mail of a created user).
    subject_label: Mapped[str] = mapped_column(String(254), default="")


class AuditEvent(db.Model):
    # The event's identity and the order of the page: a plain autoincrement key, taken without
    # any lock. Events committing out of this order are handled by the sealer.
    seq: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # A pseudonymous id: it stays when the person's personal fields are erased.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # non-personal facts only
    commitment: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256 over the personal fields
    # PostgreSQL: the inserting transaction's id (xid8), for the sealing rule; 0 on SQLite and
    # for events from the v1 chain.
    xid: Mapped[int] = mapped_column(BigInteger, default=0)
    # The v1 chain's links, kept for `lms audit migrate-v1` to check; NULL for v2 events.
    v1_prev_hash: Mapped[str | None] = mapped_column("prev_hash", String(64), unique=True)
    v1_hash: Mapped[str | None] = mapped_column("hash", String(64), unique=True)

    personal: Mapped[AuditPersonal | None] = relationship(lazy="selectin", uselist=False)

    __table_args__ = (Index("ix_audit_event_xid_seq", "xid", "seq"),)

    @property
    def actor_label(self) -> str | None:
        """Who acted, as recorded; None once the person's data was erased."""
        return self.personal.actor_label if self.personal is not None else None

    @property
    def actor_display(self) -> str:
        """Who acted, for the log's pages: the recorded label, or the actor's pseudonym once erased."""
        if self.personal is not None:
            return self.personal.actor_label
        return f"erased person #{pseudonym(self.actor_id)}" if self.actor_id is not None else "erased person"

    @property
    def ip(self) -> str | None:
        return self.personal.ip if self.personal is not None else None

    @property
    def subject_label(self) -> str | None:
        return self.personal.subject_label if self.personal is not None else None


class AuditLeaf(db.Model):
    """Leaf `index` of the tree (0-based) is the event `event_seq`; `hash` is its RFC 9162 leaf hash."""

    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_seq: Mapped[int] = mapped_column(ForeignKey("audit_event.seq"), unique=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(db.Model):
    """A signed tree head: the tree's size and root at one seal (lms/audit/checkpoints.py).

    `frontier` holds the compact range's hashes (hex), so the next seal goes on from here
    without reading old leaves; it is not part of what is signed, and the verifier recomputes
    everything from the leaves anyway.
    """

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    frontier: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)


class ProbeTally(db.Model):
    """Requests that look like probing, counted per actor, kind, route and minute (lms/audit/probes.py).

    A mutable counter, so it stays out of the log; once its minute is over it becomes one
    `security.probe` audit event, and `recorded_at` says so.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "not_found" or "throttled"
    route: Mapped[str] = mapped_column(String(100))  # the endpoint asked for
    actor_key: Mapped[str] = mapped_column(String(80))  # "user:<id>", or "ip:<address>" when signed out
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ip: Mapped[str] = mapped_column(String(64), default="")
    minute: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_path: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (UniqueConstraint("actor_key", "kind", "route", "minute"),)


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, flush_context, instances) -> None:
    """The ORM never updates or deletes an audit event or leaf; only the verifier's tests tamper, in SQL.

    (Personal rows may be deleted: that is erasure, `services.erase_personal_data`.)
    """
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (AuditEvent, AuditLeaf, AuditCheckpoint)) and (
                obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit events are append-only")
