"""The outbox: every reminder e-mail, written before it is sent and kept after."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db


class MessageKind(str, enum.Enum):
    DUE_SOON = "due_soon"
    EXPIRING = "expiring"
    OVERDUE = "overdue"
    DIGEST = "digest"
    AUDIT_CHECKPOINT = "audit_checkpoint"  # the day's signed audit checkpoint, to auditors

    @property
    def label(self) -> str:
        return {"due_soon": _("Due soon"), "expiring": _("Expiring"), "overdue": _("Overdue"),
                "digest": _("Weekly digest"), "audit_checkpoint": _("Audit checkpoint")}[self.value]


@dataclass(frozen=True)
class Reminder:
    """A message to queue (an outbox row before it is written)."""

    kind: MessageKind
    recipient: str
    subject: str
    body: str
    dedupe_key: str


class Transport(str, enum.Enum):
    SMTP = "smtp"
    LOG = "log"  # no MAIL_SERVER: written to the "lms.reminders" log instead


class Message(db.Model):
    """One e-mail. Pending while sent_at is NULL; a failed attempt leaves `error` and is retried."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(
        enum_column(MessageKind, 20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    # What makes this message unique, e.g. "overdue:42:2026-W04": the same reminder is never queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    transport: Mapped[Transport | None] = mapped_column(
        enum_column(Transport, 10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return "logged" if self.transport is Transport.LOG else "sent"
        return "failed" if self.error else "pending"

    def __repr__(self) -> str:
        return f"<Message {self.dedupe_key} {self.state}>"
