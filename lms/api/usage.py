"""API use in the audit log, in aggregate: one `api.used` event per key, route, status and minute.

One event per call would let a polling integration drown the log (a telephony tool may ask about
every call), so each call adds one to a tally (one upsert) and a closed minute's tally becomes a
single event, at the first call of a later minute or with `record_closed` (the pattern of
lms/audit/probes.py). Each worker looks for closed minutes once a minute, not on every call.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import Connection, Dialect, bindparam, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lms.api.models import ApiKey, ApiUsageTally
from lms.audit.services import record
from lms.clock import now
from lms.driver_statements import DriverStatement
from lms.extensions import db

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class _CountOne(NamedTuple):
    statement: DriverStatement
    minute: Callable[[datetime], Any]  # the minute as the driver takes it (UTCDateTime's bind processing)


_COUNT_ONE: dict[str, _CountOne] = {}


def _count_one(dialect: Dialect) -> _CountOne:
    """The tally's upsert, built and compiled once per dialect: SQLAlchemy cannot cache the dialects'
    INSERT .. ON CONFLICT, and compiled it anew on every call (a millisecond, bench/clearance.py)."""
    if (found := _COUNT_ONE.get(dialect.name)) is not None:
        return found
    table = ApiUsageTally.__table__
    # inline(): no RETURNING of the new id, which nobody reads.
    insert = _INSERT[dialect.name](table).inline().values(
        api_key_id=bindparam("key"), route=bindparam("route"), status=bindparam("status"),
        minute=bindparam("minute"), count=literal_column("1"))
    upsert = insert.on_conflict_do_update(index_elements=["api_key_id", "route", "status", "minute"],
                                          set_={"count": table.c.count + literal_column("1")})
    found = _COUNT_ONE[dialect.name] = _CountOne(
        DriverStatement(upsert), table.c.minute.type.dialect_impl(dialect).bind_processor(dialect))
    return found


def note(connection: Connection, key_id: int, route: str, status: int) -> None:
    """Count one call on `connection` (autocommit: the upsert stands alone). At this worker's first
    call in a minute, also turn closed minutes into audit events, in the session's transaction."""
    minute = now().replace(second=0, microsecond=0)
    count_one = _count_one(connection.dialect)
    count_one.statement.rowcount(connection, {"key": key_id, "route": route[:100], "status": status,
                                              "minute": count_one.minute(minute)})
    looked = current_app.extensions.setdefault("api_usage", {})
    if looked.get("minute") != minute:
        record_closed(before=minute)
        db.session.commit()
        looked["minute"] = minute


def record_closed(before: datetime | None = None, limit: int = 200) -> int:
    """Turn tallies of minutes before `before` (default: this minute) into audit events, each once
    (claimed with a conditional update). Returns how many events were written."""
    before = before or now().replace(second=0, microsecond=0)
    pending = db.session.execute(
        select(ApiUsageTally, ApiKey.prefix, ApiKey.name).join(ApiKey, ApiKey.id == ApiUsageTally.api_key_id)
        .where(ApiUsageTally.recorded_at.is_(None), ApiUsageTally.minute < before)
        .order_by(ApiUsageTally.id).limit(limit)).all()
    written = 0
    for tally, prefix, name in pending:
        claimed = db.session.execute(update(ApiUsageTally).where(ApiUsageTally.id == tally.id,
                                                                 ApiUsageTally.recorded_at.is_(None))
                                     .values(recorded_at=now()).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        record("api.used", actor=None, actor_label=f"API key {prefix} ({name})", target_type="api_key",
               target_id=tally.api_key_id, route=tally.route, status=tally.status,
               minute=tally.minute.isoformat(), count=tally.count)
        written += 1
    return written
