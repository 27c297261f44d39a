"""The day's audit checkpoint, e-mailed to the auditors: a copy the database cannot take back.

Each daily run (`lms reminders send`) queues the latest signed checkpoint (lms/audit) to every
active company-wide auditor and to AUDIT_CHECKPOINT_RECIPIENTS, once per recipient and day.
An auditor who keeps the e-mails can later check, with `lms audit verify --checkpoint`, that
the log still extends any of them: a log truncated or rewritten since no longer does.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from babel import dates
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from lms.accounts.locale_defaults import is_time_zone, organisation_defaults
from lms.accounts.models import Role, User
from lms.audit.checkpoints import checkpoint_note
from lms.audit.services import latest_checkpoint
from lms.extensions import db
from lms.reminders.models import MessageKind, Reminder


def recipients(extra: str) -> list[tuple[str, User | None]]:
    """Active company-wide auditors' addresses with their accounts, then the configured extra
    addresses (no account), without repeats."""
    auditors = db.session.scalars(select(User).where(User.role == Role.AUDITOR, User.active.is_(True),
                                                     User.scope_organisation_id.is_(None))
                                  .order_by(User.email))
    found: dict[str, User | None] = {}
    for user in auditors:
        found.setdefault(user.email, user)
    for part in extra.split(","):
        if part.strip():
            found.setdefault(part.strip(), None)
    return list(found.items())


def checkpoint_mails(at: datetime, extra_recipients: str = "") -> list[Reminder]:
    """Today's checkpoint e-mail for each recipient, in their language and time zone (an auditor's
    own, else their organisation's; the defaults for an address without an account); none before
    the log's first seal."""
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return []
    day = at.date()
    note = checkpoint_note(checkpoint)
    mails = []
    for address, user in recipients(extra_recipients):
        language, zone = _reader(user)
        with force_locale(language):
            # The template sets `subject` beside the body, as the agents' reminders do.
            rendered = current_app.jinja_env.get_template("reminders/audit_checkpoint.txt").make_module({
                "note": note, "tree_size": checkpoint.tree_size, "day": _long_date(day, language),
                "signed_at": _moment(checkpoint.created_at, language, zone)})
            body, subject = str(rendered).strip() + "\n", " ".join(str(rendered.subject).split())
        mails.append(Reminder(kind=MessageKind.AUDIT_CHECKPOINT, recipient=address, subject=subject[:400], body=body,
                              # An address can be long; its hash keeps the key short and still one per person and day.
                              dedupe_key=f"checkpoint:{day.isoformat()}:"
                                         f"{hashlib.sha256(address.lower().encode()).hexdigest()[:24]}"))
    return mails


def _reader(user: User | None) -> tuple[str, str]:
    """The language and time zone the recipient reads: theirs, else their organisation's, else the defaults."""
    language = current_app.config["BABEL_DEFAULT_LOCALE"]
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if user is None:
        return language, zone
    organisation_language, organisation_zone = organisation_defaults(user.organisation_id)
    language = next((choice for choice in (user.language, organisation_language)
                     if choice in current_app.config["LANGUAGES"]), language)
    zone = next((choice for choice in (user.time_zone, organisation_zone) if choice and is_time_zone(choice)), zone)
    return language, zone


def _long_date(value: date, language: str) -> str:
    # English keeps the house style of the other e-mails (25 January 2026); others their own long form.
    return dates.format_date(value, "d MMMM y" if language == "en" else "long", locale=language)


def _moment(value: datetime, language: str, zone: str) -> str:
    """A stored UTC time in the reader's language and zone, the zone named."""
    moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = dates.format_datetime(moment, "medium", tzinfo=ZoneInfo(zone), locale="en_IE" if language == "en" else language)
    return f"{text} {zone}"
