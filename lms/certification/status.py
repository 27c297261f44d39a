"""Certification status for any date, as one SQL expression.

Because status is an expression over Enrolment and its current Award (not a
stored column), the dashboard filters, sorts, counts and pages by it in the
database, with a fixed number of queries whatever the number of agents.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from lms.certification.models import Award, Enrolment


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
        return self.value.replace("_", " ").capitalize()

    @property
    def needs_action(self) -> bool:
        return self in (Status.NOT_STARTED, Status.IN_PROGRESS, Status.OVERDUE, Status.EXPIRING,
                        Status.EXPIRED, Status.REVOKED)


CurrentAward = aliased(Award, name="current_award")


def effective_due(enrolment=Enrolment) -> ColumnElement:
    """The date the agent must be certified by: a recertification deadline, else the assignment's."""
    return func.coalesce(enrolment.recert_due_at, enrolment.due_at)


def status_expression(at: datetime, enrolment=Enrolment, award=CurrentAward) -> ColumnElement:
    """SQL CASE giving the Status value of an enrolment (outer-joined to its current award) at `at`."""
    at = literal(at, type_=Enrolment.due_at.type)
    counts = and_(award.id.is_not(None), award.revoked_at.is_(None),
                  or_(enrolment.recert_after.is_(None), award.issued_at >= enrolment.recert_after))
    return case(
        (and_(award.id.is_not(None), award.revoked_at.is_not(None),
              or_(enrolment.recert_after.is_(None), award.issued_at >= enrolment.recert_after)),
         Status.REVOKED.value),
        (and_(counts, at < award.window_opens_at), Status.CERTIFIED.value),
        (and_(counts, at < award.grace_until), Status.EXPIRING.value),
        (counts, Status.EXPIRED.value),
        (at > effective_due(enrolment), Status.OVERDUE.value),
        (enrolment.started_at.is_not(None), Status.IN_PROGRESS.value),
        else_=Status.NOT_STARTED.value,
    )


def due_expression(enrolment=Enrolment, award=CurrentAward) -> ColumnElement:
    """When the agent next has to act: expiry of a counting award, else the due date."""
    counts = and_(award.id.is_not(None), award.revoked_at.is_(None),
                  or_(enrolment.recert_after.is_(None), award.issued_at >= enrolment.recert_after))
    return case((counts, award.valid_until), else_=effective_due(enrolment))
