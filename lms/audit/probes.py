"""Probing leaves a trace: 404s for records that are not the requester's, refused exports,
throttled requests (sign-ins above all).

One audit event per such request would let a script flood the log, so each request adds one
to a tally per actor, kind, route and minute (one upsert). Once its minute is over, a tally
becomes a single `security.probe` audit event carrying its count: at the next probe, when
someone opens the audit log, or with `flask lms audit flush-probes`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from lms.audit import people
from lms.audit.models import ProbeTally
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db

NOT_FOUND = "not_found"  # a record that does not exist or is not the requester's; a refused export
THROTTLED = "throttled"  # a rate limit refused the request (sign-in, verification, password reset)

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def note(kind: str, actor: Any) -> None:
    """Count this request as a probe of `kind` on its route, by `actor` (the signed-in person, or
    None: the request's address); flush, the caller commits."""
    at = now()
    minute = at.replace(second=0, microsecond=0)
    ip = (request.remote_addr or "")[:64]
    values = {"kind": kind, "route": (request.endpoint or "")[:100],
              "actor_key": f"user:{actor.id}" if actor is not None else f"ip:{ip}",
              "actor_id": getattr(actor, "id", None), "ip": ip, "minute": minute, "count": 1,
              "first_path": request.path[:300]}
    insert = _INSERT[db.session.get_bind().dialect.name](ProbeTally).values(**values)
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["actor_key", "kind", "route", "minute"],
        set_={"count": ProbeTally.count + 1}))
    record_closed(before=minute)


def record_closed(before: datetime | None = None, limit: int = 200) -> int:
    """Turn tallies of minutes before `before` (default: the current minute) into audit events.

    Each tally is claimed with a conditional update, so two requests flushing at once record
    it once. Returns how many events were written.
    """
    before = before or now().replace(second=0, microsecond=0)
    pending = db.session.scalars(select(ProbeTally).where(ProbeTally.recorded_at.is_(None),
                                                          ProbeTally.minute < before)
                                 .order_by(ProbeTally.id).limit(limit)).all()
    written = 0
    for tally in pending:
        claimed = db.session.execute(update(ProbeTally).where(ProbeTally.id == tally.id,
                                                              ProbeTally.recorded_at.is_(None))
                                     .values(recorded_at=now()).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        actor = db.session.get(people.model(), tally.actor_id) if tally.actor_id else None
        record("security.probe", actor=actor, actor_label=None if actor else "anonymous", ip=tally.ip,
               kind=tally.kind, route=tally.route, minute=tally.minute.isoformat(), count=tally.count,
               first_path=tally.first_path)
        written += 1
    return written
