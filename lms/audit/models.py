"""Audit events: append-only rows, each chained to the one before by SHA-256."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from lms.clock import UTCDateTime
from lms.extensions import db


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # The actor's e-mail at the time: the log must read the same after a user changes.
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ProbeTally(db.Model):
    """Requests that look like probing, counted per actor, kind, route and minute (lms/audit/probes.py).

    A mutable counter, so it stays out of the chain; once its minute is over it becomes one
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
    """The ORM never updates or deletes an audit event; only the verifier's tests tamper, in SQL."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise RuntimeError("audit events are append-only")
