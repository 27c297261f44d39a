"""Whom to remind today, the outbox, and delivery.

Selection runs on the certification status SQL (status_expression and
due_expression), in one query whatever the number of agents, plus one query
per 500 candidate messages to skip those already queued. The rules:

- due soon: not certified yet and the due date is REMINDER_DAYS_BEFORE days
  away or less. One message per threshold and due date, so a skipped day
  still sends it once, and an agent assigned 10 days before the date gets one
  message (for 14), not two.
- expiring: a counting award whose expiry is that close (one per threshold
  and expiry date).
- overdue: a mandatory programme past its due date, or a certificate past its
  expiry (in its grace period or expired): once per ISO week.
- digest: each organisation with a contact address and overdue agents gets
  the list of them, once per ISO week.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from flask import current_app
from flask_babel import force_locale, format_date, get_locale
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lms.accounts.models import Organisation, User
from lms.audit.services import record
from lms.certification.models import Enrolment, Programme, ProgrammeVersion
from lms.certification.status import Status, due_expression, status_expression
from lms.clock import now
from lms.extensions import db
from lms.reminders.mailer import DeliveryError, Mailer, mailer_for
from lms.reminders.checkpoint_mail import checkpoint_mails
from lms.reminders.models import Message, MessageKind, Reminder

log = logging.getLogger("lms.reminders")
MAX_ATTEMPTS = 3  # daily runs: a message that fails three days running is stale; it stays in the outbox as failed
_KEY_BATCH = 500

NOT_CERTIFIED = (Status.NOT_STARTED.value, Status.IN_PROGRESS.value)
HOLDS_AWARD = (Status.CERTIFIED.value, Status.EXPIRING.value)
LAPSED = (Status.OVERDUE.value, Status.EXPIRED.value)


@dataclass
class RunResult:
    queued: Counter = field(default_factory=Counter)  # by kind
    sent: int = 0
    failed: int = 0
    transport: str = ""

    def summary(self) -> str:
        kinds = ", ".join(f"{self.queued[k]} {k.label.lower()}" for k in MessageKind if self.queued[k])
        queued = sum(self.queued.values())
        verb = "logged (MAIL_SERVER is not set)" if self.transport == "log" else "sent"
        return (f"Queued {queued} message(s){f' ({kinds})' if kinds else ''}; "
                f"{self.sent} {verb}, {self.failed} failed.")


# ---- selection ---------------------------------------------------------------------------

def reminder_rows(at: datetime, horizon: datetime) -> Select:
    """Enrolments that may need a reminder at `at`, with their status and due date.

    The same joins and filters as certification.reports.status_rows, without
    restrict_users: this is the system acting, not a person viewing.
    """
    inner = (
        select(Enrolment.id.label("enrolment_id"), Enrolment.mandatory.label("mandatory"),
               User.id.label("user_id"), User.name.label("name"), User.email.label("email"),
               User.language.label("language"), Organisation.language.label("organisation_language"),
               Organisation.id.label("organisation_id"), Organisation.name.label("organisation"),
               Organisation.contact_email.label("contact_email"), ProgrammeVersion.title.label("programme"),
               status_expression(at).label("status"), due_expression().label("due"),
               Enrolment.award_valid_until.label("valid_until"))
        .join(User, User.id == Enrolment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .join(Programme, Programme.id == Enrolment.programme_id)
        .join(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
        # Restricted people (Arts 18, 21) are kept but not reminded, nor listed in digests.
        .where(User.active.is_(True), User.restricted_at.is_(None), Programme.archived_at.is_(None))
    ).subquery("rows")
    return (select(inner)
            .where(or_(and_(inner.c.status.in_(NOT_CERTIFIED + HOLDS_AWARD), inner.c.due < horizon),
                       and_(inner.c.status.in_(LAPSED), inner.c.mandatory.is_(True))))
            .order_by(inner.c.organisation, inner.c.name, inner.c.enrolment_id))


def _threshold(days_left: int, thresholds: Iterable[int]) -> int | None:
    """The smallest threshold already reached (days_left <= it), or None when none is."""
    reached = [t for t in thresholds if days_left <= t]
    return min(reached) if reached else None


def _week(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def _day(value: datetime | date) -> str:
    """The calendar day of a UTC date, in the language being rendered (see _reminder)."""
    # English keeps the house style (25 January 2026); other languages take their own long form.
    pattern = "d MMMM y" if str(get_locale()) == "en" else "long"
    return format_date(value.date() if isinstance(value, datetime) else value, pattern)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _lapsed(row: Any, at: datetime) -> bool:
    """Past the date by which the agent had to be certified (mandatory programmes only)."""
    if not row.mandatory:
        return False
    return row.status in LAPSED or (row.status == Status.EXPIRING.value and row.due <= at)


def plan(at: datetime, days_before: Iterable[int], base_url: str) -> list[Reminder]:
    """Every reminder due at `at` (already-queued ones included: queue() skips those)."""
    horizon = datetime.combine(at.date() + timedelta(days=max(days_before, default=-1) + 1), time.min,
                               tzinfo=timezone.utc)
    rows = db.session.execute(reminder_rows(at, horizon)).all()
    today, week = at.date(), _week(at)
    reminders: list[Reminder] = []
    lapsed_by_org: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        days_left = (row.due.date() - today).days
        context = {"row": row, "days_left": days_left, "day": _day, "base_url": base_url}
        language = row.language or row.organisation_language
        if _lapsed(row, at):
            lapsed_by_org[row.organisation_id].append(row)
            context["expired"] = row.status != Status.OVERDUE.value
            reminders.append(_reminder(MessageKind.OVERDUE, row.email, context, f"overdue:{row.enrolment_id}:{week}",
                                       language))
            continue
        if row.due < at:  # past due but not lapsed: an optional programme; no nagging
            continue
        threshold = _threshold(days_left, days_before)
        if threshold is None:
            continue
        if row.status in NOT_CERTIFIED:
            reminders.append(_reminder(MessageKind.DUE_SOON, row.email, context,
                                       f"due_soon:{row.enrolment_id}:{threshold}:{row.due.date()}", language))
        elif row.status in HOLDS_AWARD:
            reminders.append(_reminder(MessageKind.EXPIRING, row.email, context,
                                       f"expiring:{row.enrolment_id}:{threshold}:{row.due.date()}", language))
    for org_rows in lapsed_by_org.values():
        first = org_rows[0]
        if not first.contact_email:
            continue
        agents: dict[int, list[Any]] = defaultdict(list)
        for row in org_rows:
            agents[row.user_id].append(row)
        context = {"organisation": first.organisation, "agents": list(agents.values()), "day": _day,
                   "base_url": base_url, "week": week}
        reminders.append(_reminder(MessageKind.DIGEST, first.contact_email, context,
                                   f"digest:{first.organisation_id}:{week}", first.organisation_language))
    return reminders


def _reminder(kind: MessageKind, recipient: str, context: dict, key: str, language: str | None) -> Reminder:
    """The message in the recipient's language (theirs, else their organisation's, else the default).

    The template sets `subject` beside the body, so both come from the same catalogue entry set.
    """
    if language not in current_app.config["LANGUAGES"]:
        language = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(language):
        template = current_app.jinja_env.get_template(f"reminders/{kind.value}.txt")
        rendered = template.make_module(context)
        body, subject = str(rendered), str(rendered.subject)
    return Reminder(kind=kind, recipient=recipient, subject=_one_line(subject)[:400], body=body.strip() + "\n",
                    dedupe_key=key)


# ---- the outbox ----------------------------------------------------------------------------

def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _KEY_BATCH):
        batch = keys[i:i + _KEY_BATCH]
        found.update(db.session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(batch))))
    return found


def _insert_ignoring_duplicates():
    """INSERT that skips rows whose dedupe key exists (a run started at the same time wrote it)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Message).on_conflict_do_nothing(index_elements=["dedupe_key"])
    if dialect == "sqlite":
        return sqlite.insert(Message).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return Message.__table__.insert()


def queue(reminders: list[Reminder], at: datetime) -> Counter:
    """Write the reminders not queued before to the outbox; flush. Returns how many, by kind."""
    existing = _existing_keys([r.dedupe_key for r in reminders])
    new = [r for r in reminders if r.dedupe_key not in existing]
    if new:
        db.session.execute(_insert_ignoring_duplicates(), [
            {"kind": r.kind.value, "recipient": r.recipient, "subject": r.subject, "body": r.body,
             "dedupe_key": r.dedupe_key, "created_at": at, "attempts": 0} for r in new])
        db.session.flush()
    return Counter(r.kind for r in new)


def pending() -> Select:
    """Messages not sent yet that still have attempts left, oldest first."""
    return (select(Message).where(Message.sent_at.is_(None), Message.attempts < MAX_ATTEMPTS)
            .order_by(Message.id))


def deliver(mailer: Mailer) -> tuple[int, int]:
    """Send every pending message; returns (sent, failed).

    Commits after each message, unlike other services: an e-mail cannot be
    rolled back, so the fact that it left must be stored before the next one
    goes, or a crash later in the run would send it again tomorrow.
    """
    messages = list(db.session.scalars(pending()))
    if not messages:
        return 0, 0
    try:
        mailer.open()
    except DeliveryError as exc:
        # The server is unreachable: one error for all, rather than one timeout per message.
        db.session.execute(update(Message).where(Message.id.in_([m.id for m in messages]))
                           .values(error=str(exc), attempts=Message.attempts + 1))
        db.session.commit()
        log.error("Reminders not sent: %s", exc)
        return 0, len(messages)
    sent = failed = 0
    try:
        for message in messages:
            message.attempts += 1
            try:
                mailer.send(message)
            except DeliveryError as exc:
                message.error = str(exc)[:2000]
                failed += 1
                log.warning("Reminder %s to %s failed: %s", message.id, message.recipient, exc)
            else:
                message.sent_at, message.transport, message.error = now(), mailer.transport, None
                sent += 1
            db.session.commit()
    finally:
        mailer.close()
    return sent, failed


def send_reminders(at: datetime | None = None, config: dict | None = None) -> RunResult:
    """The daily run: plan (with the day's audit checkpoint for auditors), queue (commit), deliver
    (commit per message), one audit event (commit)."""
    at = at or now()
    config = config or current_app.config
    result = RunResult()
    result.queued = queue(plan(at, config["REMINDER_DAYS_BEFORE"], config["BASE_URL"])
                          + checkpoint_mails(at, config["AUDIT_CHECKPOINT_RECIPIENTS"]), at)
    db.session.commit()
    mailer = mailer_for(config)
    result.transport = mailer.transport.value
    result.sent, result.failed = deliver(mailer)
    record("reminders.sent", queued={k.value: n for k, n in sorted(result.queued.items())},
           sent=result.sent, failed=result.failed, transport=result.transport)
    db.session.commit()
    return result
