"""The xAPI outbox: every statement, written with the learning event that made it and kept after.

A row is inserted in the request's own transaction (lms/xapi/outbox.py) and sent later by the
delivery job (lms/xapi/delivery.py), so a slow or absent learning record store never holds up an
agent. The statement id is fixed when the row is written: sending it again is harmless, because
an LRS stores a statement id once.
"""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db


class OutboxState(str, enum.Enum):
    QUEUED = "queued"  # waiting for the next run
    SENDING = "sending"  # claimed by a run (a run that died leaves it to be claimed again later)
    DELIVERED = "delivered"  # the LRS stored it (or already had it)
    FAILED = "failed"  # the last try failed: tried again at next_try_at, or after the admin's Retry
    WITHHELD = "withheld"  # the person was restricted or erased before it left: never sent

    @property
    def label(self) -> str:
        return {"queued": _("Queued"), "sending": _("Sending"), "delivered": _("Delivered"), "failed": _("Failed"),
                "withheld": _("Withheld (restricted or erased)")}[self.value]


class XapiStatement(db.Model):
    __tablename__ = "xapi_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)  # UUID, as the LRS knows it
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # lms.xapi.statements.KINDS
    statement: Mapped[dict] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the statement's timestamp
    state: Mapped[OutboxState] = mapped_column(enum_column(OutboxState, 20), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None when failed for good
    last_error: Mapped[str | None] = mapped_column(Text)
    # The run that holds it while SENDING, and since when (to take over from a run that died).
    claim: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_xapi_statement_state_next_try_at", "state", "next_try_at"),)
