"""The breach register (Art. 33(5)): every personal data breach the company records, and its
72-hour clock.

Art. 33(1) asks the controller to notify the supervisory authority within 72 hours of becoming
aware of a breach, unless it is unlikely to result in a risk, and to give reasons for a later
notice; Art. 34 asks it to tell the people affected when the risk is high. Every breach is
documented either way (33(5)), so the register keeps the facts, the effects, the measures and
each decision with its reason. The clock starts at `aware_at`, not at the breach itself.

Services flush and record an audit event with non-personal facts only (ids, status, the names of
the fields that changed); the free text may describe people and never reaches the audit log.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from flask_babel import get_locale, gettext as _, ngettext
from sqlalchemy import ForeignKey, Integer, String, Text, case, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.audit.services import record
from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db

NOTIFY_WITHIN = timedelta(hours=72)  # Art. 33(1)
# The dashboard warns once the deadline is this close (or past) and the authority is not told.
WARN_WITHIN = timedelta(hours=24)


class BreachStatus(enum.StrEnum):  # StrEnum: WTForms selects the stored choice by str() (see Role)
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": _("Open"), "closed": _("Closed")}[self.value]


class Breach(db.Model):
    """One breach as the company documents it (Art. 33(5)); edited as facts and decisions arrive."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # often known only later, or never
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the 72-hour clock starts here
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    facts: Mapped[str] = mapped_column(Text)
    # Art. 33(3)(a): categories and approximate numbers of data subjects and of records.
    subject_categories: Mapped[str] = mapped_column(String(400), default="")
    subjects_approx: Mapped[int | None] = mapped_column(Integer)
    record_categories: Mapped[str] = mapped_column(String(400), default="")
    records_approx: Mapped[int | None] = mapped_column(Integer)
    consequences: Mapped[str] = mapped_column(Text, default="")  # Art. 33(3)(c)
    measures: Mapped[str] = mapped_column(Text, default="")  # Art. 33(3)(d)
    # Art. 33(1): when the authority was told, why that was later than 72 hours, or why it
    # need not be told at all (the breach is unlikely to result in a risk).
    authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authority_delay_reason: Mapped[str] = mapped_column(Text, default="")
    authority_not_required_reason: Mapped[str] = mapped_column(Text, default="")
    # Art. 34: when the people affected were told, or why not (no high risk, 34(3) exceptions).
    subjects_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subjects_not_informed_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[BreachStatus] = mapped_column(
        enum_column(BreachStatus, 10),
        default=BreachStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    recorded_by: Mapped[User] = relationship()

    @property
    def deadline(self) -> datetime:
        return self.aware_at + NOTIFY_WITHIN

    def __repr__(self) -> str:
        return f"<Breach {self.id} {self.status.value}>"


# ---- the 72-hour clock ----------------------------------------------------------------

class ClockState(enum.StrEnum):
    NOTIFIED = "notified"
    NOT_REQUIRED = "not_required"  # the company decided the authority need not be told
    RUNNING = "running"  # more than WARN_WITHIN left
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class NotificationClock:
    """Where a breach stands against its Art. 33 deadline at a given moment."""

    state: ClockState
    deadline: datetime
    # Time left before the deadline (negative once overdue); for a notified breach, how early
    # (positive) or late (negative) the notice was.
    margin: timedelta
    notified_at: datetime | None

    @property
    def late(self) -> bool:
        return self.margin < timedelta(0)


def notification_clock(breach: Breach, at: datetime) -> NotificationClock:
    """The clock of `breach` at `at`: notified, not required, or running towards its deadline."""
    deadline = breach.deadline
    if breach.authority_notified_at is not None:
        return NotificationClock(ClockState.NOTIFIED, deadline, deadline - breach.authority_notified_at,
                                 breach.authority_notified_at)
    if breach.authority_not_required_reason:
        return NotificationClock(ClockState.NOT_REQUIRED, deadline, deadline - at, None)
    margin = deadline - at
    state = (ClockState.OVERDUE if margin < timedelta(0)
             else ClockState.DUE_SOON if margin <= WARN_WITHIN else ClockState.RUNNING)
    return NotificationClock(state, deadline, margin, None)


def duration_words(span: timedelta) -> str:
    """'31 h', '4 days 2 h', 'under 1 h': how long, in words, whatever the sign of `span`.

    Hours up to 72, as the Art. 33 clock counts them; days beyond, where hours stop meaning much.
    """
    hours = int(abs(span).total_seconds() // 3600)
    if hours < 1:
        return _("under 1 h")
    if hours <= NOTIFY_WITHIN.total_seconds() // 3600:
        return _("%(hours)s h", hours=hours)
    days, hours = divmod(hours, 24)
    if hours:
        return ngettext("%(num)s day %(hours)s h", "%(num)s days %(hours)s h", days, hours=hours)
    return ngettext("%(num)s day", "%(num)s days", days)


def utc_time_words(moment: datetime) -> str:
    """A time of the register as the Art. 33 clock counts it: in UTC, named, in the reader's language
    ("08 Jan 2026, 07:00 UTC"; "08/01/2026 07:00 UTC" in French). The register is kept in UTC (the form
    asks for UTC), so its times are not moved to the reader's zone."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    language = str(get_locale() or "en")
    if language == "en":
        return f"{format_datetime(moment, 'dd MMM y, HH:mm', tzinfo=timezone.utc, locale='en_IE')} UTC"
    locale = Locale.parse(language)
    day = format_date(moment.date(), "medium", locale=locale)
    clock = format_time(moment, "HH:mm", tzinfo=timezone.utc, locale=locale)
    return f"{locale.datetime_formats['medium'].format(clock, day)} UTC"


# ---- recording and updating ------------------------------------------------------------

@dataclass(frozen=True)
class BreachData:
    """What a person types into the register; times are aware UTC."""

    title: str
    aware_at: datetime
    facts: str
    occurred_at: datetime | None = None
    subject_categories: str = ""
    subjects_approx: int | None = None
    record_categories: str = ""
    records_approx: int | None = None
    consequences: str = ""
    measures: str = ""
    authority_notified_at: datetime | None = None
    authority_delay_reason: str = ""
    authority_not_required_reason: str = ""
    subjects_informed_at: datetime | None = None
    subjects_not_informed_reason: str = ""
    status: BreachStatus = BreachStatus.OPEN


class BreachInvalid(ValueError):
    """The data break the register's rules; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def problems(data: BreachData, at: datetime) -> dict[str, str]:
    """The register's rules across fields, as field -> message (empty when the data are fine)."""
    errors: dict[str, str] = {}
    for name in ("occurred_at", "aware_at", "authority_notified_at", "subjects_informed_at"):
        moment = getattr(data, name)
        if moment is not None and moment > at:
            errors[name] = _("This is in the future: give the time it happened, in UTC.")
    if data.occurred_at and data.occurred_at > data.aware_at and "occurred_at" not in errors:
        errors["occurred_at"] = _("The breach cannot happen after you became aware of it.")
    notified = data.authority_notified_at
    if notified is not None and "authority_notified_at" not in errors:
        if notified < data.aware_at:
            errors["authority_notified_at"] = _("The authority cannot be notified before you became aware of the "
                                                "breach.")
        elif notified > data.aware_at + NOTIFY_WITHIN and not data.authority_delay_reason.strip():
            errors["authority_delay_reason"] = _("The notice came more than 72 hours after you became aware: "
                                                 "give the reasons for the delay (Art. 33(1)).")
    if notified is not None and data.authority_not_required_reason.strip():
        errors["authority_not_required_reason"] = _("The authority was notified: leave this empty, "
                                                    "or clear the notification time.")
    if data.status is BreachStatus.CLOSED:
        if notified is None and not data.authority_not_required_reason.strip():
            errors.setdefault("authority_not_required_reason",
                              _("Before closing: give the time the authority was notified, or why it need not be "
                                "(Art. 33(1))."))
        if data.subjects_informed_at is None and not data.subjects_not_informed_reason.strip():
            errors["subjects_not_informed_reason"] = _("Before closing: give the time the people affected were "
                                                       "told, or why they were not (Art. 34).")
    return errors


def _values(data: BreachData) -> dict:
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    # `type(...) is str`: the status is a StrEnum, which strip() would turn into a plain string.
    return {name: value.strip() if type(value) is str else value for name, value in values.items()}


def record_breach(actor: User, data: BreachData) -> Breach:
    """Add a breach to the register, recorded by `actor`; raises BreachInvalid. Flushes and audits."""
    errors = problems(data, now())
    if errors:
        raise BreachInvalid(errors)
    breach = Breach(recorded_by_id=actor.id, **_values(data))
    db.session.add(breach)
    db.session.flush()
    record("breach.recorded", actor=actor, target=breach, status=breach.status.value,
           aware_at=breach.aware_at.isoformat(), authority_notified=breach.authority_notified_at is not None)
    return breach


def update_breach(actor: User, breach: Breach, data: BreachData) -> list[str]:
    """Apply `data` to `breach`; returns the names of the fields that changed (audited when any).

    Raises BreachInvalid. Flushes.
    """
    errors = problems(data, now())
    if errors:
        raise BreachInvalid(errors)
    values = _values(data)
    changed = sorted(name for name, value in values.items() if getattr(breach, name) != value)
    if not changed:
        return []
    before = breach.status
    for name in changed:
        setattr(breach, name, values[name])
    db.session.flush()
    record("breach.updated", actor=actor, target=breach, fields=changed,
           status=[before.value, breach.status.value] if "status" in changed else breach.status.value)
    return changed


# ---- reading ---------------------------------------------------------------------------

def register() -> list[Breach]:
    """Every breach: open ones first, the earliest deadline first; then closed ones, newest first."""
    is_open = Breach.status == BreachStatus.OPEN
    return list(db.session.scalars(select(Breach).order_by(
        case((is_open, 0), else_=1), case((is_open, Breach.aware_at)).asc(), Breach.aware_at.desc())))


def unnotified_soon(at: datetime) -> tuple[int, datetime | None]:
    """The open breaches whose authority notice is due within WARN_WITHIN of `at`, or overdue, and
    not made nor decided against: how many, and the earliest deadline. One query."""
    count, earliest = db.session.execute(
        select(func.count(), func.min(Breach.aware_at)).where(
            Breach.status == BreachStatus.OPEN, Breach.authority_notified_at.is_(None),
            Breach.authority_not_required_reason == "", Breach.aware_at <= at + WARN_WITHIN - NOTIFY_WITHIN)).one()
    return count, earliest + NOTIFY_WITHIN if earliest is not None else None
