"""The one source of "now", and a UTC timestamp column type.

Everything that depends on the date asks `now()`, so tests (and status
calculations for "any date") can move the clock instead of sleeping.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.types import DateTime, TypeDecorator


_fixed: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC (or the moment a test has set)."""
    return _fixed or datetime.now(timezone.utc)


def set_now(moment: datetime | None) -> None:
    """Move the clock to `moment` (None: back to real time). For tests and the demo generator."""
    global _fixed
    _fixed = moment


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no time zone, PostgreSQL does."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)
