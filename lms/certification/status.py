"""Certification status for any date, as one SQL expression.

Because status is an expression over the Enrolment row (which carries a copy of
its current award's dates; not a stored status), the dashboard filters, sorts, counts and pages by it in the
database, with a fixed number of queries whatever the number of agents.
"""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from lms.certification.models import Enrolment


class Status(str, enum.Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    CERTIFIED = "certified"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        """The status as the reader's language names it, now (LABELS has the lazy names)."""
        return str(LABELS[self.value])

    @property
    def english(self) -> str:
        """The status in English, for CSV files: spreadsheets built on them filter on these words."""
        return self.value.replace("_", " ").capitalize()


# Lazy: the dashboard form's choices are built at import, and read in each reader's language.
LABELS = {"not_started": _l("Not started"), "in_progress": _l("In progress"), "overdue": _l("Overdue"),
          "certified": _l("Certified"), "expiring": _l("Expiring"), "expired": _l("Expired"),
          "revoked": _l("Revoked")}


def effective_due(enrolment=Enrolment) -> ColumnElement:
    """The date the agent must be certified by: a recertification deadline, else the assignment's."""
    return func.coalesce(enrolment.recert_due_at, enrolment.due_at)


def _award_applies(enrolment=Enrolment) -> ColumnElement:
    """The enrolment has a current award that a material change has not overtaken."""
    return and_(enrolment.award_issued_at.is_not(None),
                or_(enrolment.recert_after.is_(None), enrolment.award_issued_at >= enrolment.recert_after))


def status_expression(at: datetime | ColumnElement, enrolment=Enrolment) -> ColumnElement:
    """SQL CASE giving the Status value of an enrolment at `at` (from the enrolment row alone).

    `at` may be a bound parameter, for a statement built once and run with many dates."""
    if not isinstance(at, ColumnElement):
        at = literal(at, type_=Enrolment.due_at.type)
    applies = _award_applies(enrolment)
    counts = and_(applies, enrolment.award_revoked_at.is_(None))
    return case(
        (and_(applies, enrolment.award_revoked_at.is_not(None)), Status.REVOKED.value),
        (and_(counts, at < enrolment.award_window_opens_at), Status.CERTIFIED.value),
        (and_(counts, at < enrolment.award_grace_until), Status.EXPIRING.value),
        (counts, Status.EXPIRED.value),
        (at > effective_due(enrolment), Status.OVERDUE.value),
        (enrolment.started_at.is_not(None), Status.IN_PROGRESS.value),
        else_=Status.NOT_STARTED.value,
    )


def due_expression(enrolment=Enrolment) -> ColumnElement:
    """When the agent next has to act: the expiry of a counting award, else the due date."""
    return enrolment.next_due_at
