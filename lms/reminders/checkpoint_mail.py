"""The day's audit checkpoint, e-mailed to the auditors: a copy the database cannot take back.

Each daily run (`lms reminders send`) queues the latest signed checkpoint (lms/audit) to every
active company-wide auditor and to AUDIT_CHECKPOINT_RECIPIENTS, once per recipient and day.
An auditor who keeps the e-mails can later check, with `lms audit verify --checkpoint`, that
the log still extends any of them: a log truncated or rewritten since no longer does.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask import render_template
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.audit.checkpoints import checkpoint_note
from lms.audit.services import latest_checkpoint
from lms.extensions import db
from lms.reminders.models import MessageKind, Reminder


def recipients(extra: str) -> list[str]:
    """Active company-wide auditors' addresses, then the configured extra ones, without repeats."""
    auditors = db.session.scalars(select(User.email).where(User.role == Role.AUDITOR, User.active.is_(True),
                                                            User.scope_organisation_id.is_(None))
                                  .order_by(User.email))
    addresses = [*auditors, *(part.strip() for part in extra.split(",") if part.strip())]
    return list(dict.fromkeys(addresses))


def checkpoint_mails(at: datetime, extra_recipients: str = "") -> list[Reminder]:
    """Today's checkpoint e-mail for each recipient; none before the log's first seal."""
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return []
    day = at.date().isoformat()
    subject = f"Audit log checkpoint, {day}: {checkpoint.tree_size} events"
    body = render_template("reminders/audit_checkpoint.txt", note=checkpoint_note(checkpoint),
                           checkpoint=checkpoint, day=day).strip() + "\n"
    return [Reminder(kind=MessageKind.AUDIT_CHECKPOINT, recipient=address, subject=subject, body=body,
                     # An address can be long; its hash keeps the key short and still one per person and day.
                     dedupe_key=f"checkpoint:{day}:{hashlib.sha256(address.lower().encode()).hexdigest()[:24]}")
            for address in recipients(extra_recipients)]
