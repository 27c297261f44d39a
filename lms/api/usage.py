"""API use in the audit log, in aggregate: one `api.used` event per key, route, status and minute.

One event per call would let a polling integration drown the log (a telephony tool may ask about
every call), so each call adds one to a tally (one upsert) and a closed minute's tally becomes a
single event, at the next call or with `record_closed` (the pattern of lms/audit/probes.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from lms.api.models import ApiKey, ApiUsageTally
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def note(key: ApiKey, route: str, status: int) -> None:
    """Count one call; flush closed minutes into audit events. The caller commits."""
    minute = now().replace(second=0, microsecond=0)
    insert = _INSERT[db.session.get_bind().dialect.name](ApiUsageTally).values(
        api_key_id=key.id, route=route[:100], status=status, minute=minute, count=1)
    db.session.execute(insert.on_conflict_do_update(index_elements=["api_key_id", "route", "status", "minute"],
                                                    set_={"count": ApiUsageTally.count + 1}))
    record_closed(before=minute)


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
