"""Data-subject requests (Arts 12, 15-21): the register the controller keeps, and restriction.

Each request records who asked, for which right, how their identity was checked, when it
is due (one month from receipt, Art. 12(3)), an extension of up to two further months with
its reason, and the outcome. Every step is audited with facts only (ids, the right, dates):
the free-text notes stay in this table, where erasure replaces any mention of the person.

Restriction (Art. 18) and objection (Art. 21) set `User.restricted_at`: the data is kept but
no longer used (no reminders, out of quiz analysis).
"""
from __future__ import annotations

import calendar
import enum
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, case, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.audit.services import record
from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db

WARN_DAYS = 7  # the dashboard warns when an open request is due within this many days


class Right(str, enum.Enum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"

    @property
    def label(self) -> str:
        """The right in the reader's language (lazy: the request form's choices are built at import)."""
        return _RIGHTS[self.value]


class RequestState(str, enum.Enum):
    OPEN = "open"
    DONE = "done"  # answered: what was asked was done
    REFUSED = "refused"  # answered with reasons (Art. 12(4))

    @property
    def label(self) -> str:
        return {"open": _("Open"), "done": _("Done"), "refused": _("Refused")}[self.value]


_RIGHTS = {"access": _l("Access (Art. 15)"), "rectification": _l("Rectification (Art. 16)"),
           "erasure": _l("Erasure (Art. 17)"), "restriction": _l("Restriction (Art. 18)"),
           "objection": _l("Objection (Art. 21)"), "portability": _l("Portability (Art. 20)")}


class DataRequest(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)  # the data subject
    right: Mapped[Right] = mapped_column(
        enum_column(Right, 20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    identity_check: Mapped[str] = mapped_column(Text)  # how the requester was identified
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the deadline now (extended or not)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState, 10),
        default=RequestState.OPEN, index=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def extended(self) -> bool:
        return self.extension_reason is not None

    def days_left(self, at: datetime | None = None) -> int:
        """Whole days until the deadline (negative once it has passed)."""
        return (self.due_at.date() - (at or now()).date()).days


class RequestError(ValueError):
    """The step is not allowed as asked; the message says why."""


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 January + 1 month = 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=timezone.utc)


def record_request(actor: User, person: User, right: Right, received: date, identity_check: str) -> DataRequest:
    """Open a request received on `received`, due one month later (Art. 12(3)). Flushes."""
    if received > now().date():
        raise RequestError(_("The date received cannot be in the future."))
    request_ = DataRequest(user_id=person.id, right=right,
                           received_at=datetime.combine(received, time.min, tzinfo=timezone.utc),
                           identity_check=identity_check.strip(), due_at=_end_of(add_months(received, 1)),
                           recorded_by_id=actor.id)
    db.session.add(request_)
    db.session.flush()
    record("privacy.request_recorded", actor=actor, target=person, request_id=request_.id, right=right.value,
           due=request_.due_at.date().isoformat())
    return request_


SIGNED_IN_CHECK = "Asked while signed in to their own account"


def ask_for_reissue(person: User) -> tuple[DataRequest, bool]:
    """A person asks for their certificates under their current name (Art. 16): a rectification
    request for the admins, once while one is open. Returns (the request, whether it is new). Flushes."""
    open_one = db.session.scalar(select(DataRequest).where(
        DataRequest.user_id == person.id, DataRequest.right == Right.RECTIFICATION,
        DataRequest.state == RequestState.OPEN).limit(1))
    if open_one is not None:
        return open_one, False
    return record_request(person, person, Right.RECTIFICATION, now().date(), SIGNED_IN_CHECK), True


def extend(actor: User, request_: DataRequest, months: int, reason: str) -> None:
    """Extend by one or two further months with a reason, once, before the first deadline (Art. 12(3))."""
    if request_.state is not RequestState.OPEN:
        raise RequestError(_("Only an open request can be extended."))
    if request_.extended:
        raise RequestError(_("This request was already extended; the law allows one extension of up to two months."))
    if months not in (1, 2):
        raise RequestError(_("Extend by one or two months."))
    if now() > request_.due_at:
        raise RequestError(_("The first month has passed: an extension must be decided, and the person told, "
                             "within it."))
    request_.due_at = _end_of(add_months(request_.received_at.date(), 1 + months))
    request_.extension_reason = reason.strip()
    db.session.flush()
    record("privacy.request_extended", actor=actor, target=request_.user, request_id=request_.id, months=months,
           due=request_.due_at.date().isoformat())


def close(actor: User, request_: DataRequest, state: RequestState, outcome: str) -> None:
    if request_.state is not RequestState.OPEN:
        raise RequestError(_("This request is already closed."))
    if state is RequestState.OPEN:
        raise RequestError(_("Choose done or refused."))
    request_.state, request_.outcome, request_.closed_at = state, outcome.strip(), now()
    db.session.flush()
    record("privacy.request_closed", actor=actor, target=request_.user, request_id=request_.id,
           state=state.value, late=request_.closed_at > request_.due_at)


def register_query():
    """Every request, open ones first by deadline, then the closed ones, newest first."""
    return (select(DataRequest)
            .order_by(case((DataRequest.state == RequestState.OPEN, 0), else_=1), DataRequest.due_at,
                      DataRequest.id.desc()))


def due_soon_count(at: datetime | None = None) -> tuple[int, int]:
    """(open requests due within WARN_DAYS, open requests overdue): one query, for the dashboard."""
    at = at or now()
    horizon = _end_of(at.date() + timedelta(days=WARN_DAYS))
    row = db.session.execute(select(
        func.count().filter(DataRequest.due_at >= at, DataRequest.due_at <= horizon),
        func.count().filter(DataRequest.due_at < at))
        .where(DataRequest.state == RequestState.OPEN)).one()
    return row[0], row[1]


def set_restricted(actor: User, person: User, restricted: bool) -> None:
    """Restrict (Art. 18 or 21) or lift the restriction; audited either way. Flushes."""
    if restricted == (person.restricted_at is not None):
        return
    person.restricted_at = now() if restricted else None
    db.session.flush()
    record("privacy.restricted" if restricted else "privacy.restriction_lifted", actor=actor, target=person)
