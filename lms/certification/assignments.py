"""Changing and removing assignments, and the agents a person may assign a programme to.

Creating one is services.assign; an enrolment's dates come from its assignment through
services.assigned_from and services.due_under, here as when enrolments are first made.
They flush; callers commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Role, User
from lms.audit.services import record
from lms.certification.models import Assignment, Enrolment
from lms.certification.services import CertificationError, assigned_from, due_under, refresh_snapshot
from lms.extensions import db
from lms.policy import restrict_targets, restrict_users

# Up to this many agents, the assignment form lists them all in its <datalist>; beyond, a script
# asks `search_agents` as the user types (and without script the user types an e-mail address).
LISTED_AGENTS = 300
SEARCH_RESULTS = 20
_BRACKETED = re.compile(r"<\s*([^<>\s]+)\s*>\s*$")


@dataclass(frozen=True)
class Choice:
    """An agent as the picker offers them: `value` is what the field receives ("Name <e-mail>")."""

    name: str
    email: str

    @property
    def value(self) -> str:
        return f"{self.name} <{self.email}>"


def visible(actor: User) -> Select:
    """The assignments the actor may see, change and remove (policy.restrict_targets): all of them
    for trainers and admins; for a partner admin, their organisation's and their agents' own."""
    return restrict_targets(actor, select(Assignment), Assignment.organisation_id, Assignment.user_id)


def _agents(actor: User) -> Select:
    """The active agents the actor may assign a programme to (a partner admin: their organisation's)."""
    return restrict_users(actor, select(User.name, User.email).where(User.role == Role.AGENT, User.active.is_(True)))


def agent_choices(actor: User) -> list[Choice] | None:
    """Every agent the actor may assign to, by name, when they are few enough to list on the page;
    None when there are more than LISTED_AGENTS (the page then searches). One query."""
    rows = db.session.execute(_agents(actor).order_by(User.name, User.email).limit(LISTED_AGENTS + 1)).all()
    return None if len(rows) > LISTED_AGENTS else [Choice(row.name, row.email) for row in rows]


def search_agents(actor: User, text: str) -> list[Choice]:
    """Up to SEARCH_RESULTS agents the actor may assign to whose name or e-mail contains `text`
    (a picked "Name <e-mail>" searches its e-mail). One query; nothing for under two characters."""
    words = email_of(text) if _BRACKETED.search(text) else text.strip().lower()
    if len(words) < 2:
        return []
    # autoescape: a typed "_" or "%" is a character to find, not a wildcard.
    rows = db.session.execute(_agents(actor).where(func.lower(User.name).contains(words, autoescape=True)
                                                   | func.lower(User.email).contains(words, autoescape=True))
                              .order_by(User.name, User.email).limit(SEARCH_RESULTS))
    return [Choice(row.name, row.email) for row in rows]


def email_of(value: str) -> str:
    """The e-mail address in what the agent field received: a picked "Name <e-mail>", or an address."""
    found = _BRACKETED.search(value)
    return (found.group(1) if found else value).strip().lower()


def find_agent(actor: User, value: str) -> User:
    """The active agent the actor may assign to whom the field's value names, or CertificationError
    (the same for someone who does not exist and someone out of the actor's scope)."""
    email = email_of(value)
    if "@" not in email:
        raise CertificationError(_("Choose an agent from the list, or type their e-mail address."))
    user = db.session.scalar(restrict_users(actor, select(User).where(
        User.email == email, User.role == Role.AGENT, User.active.is_(True))))
    if user is None:
        raise CertificationError(_("No agent has this e-mail address."))
    return user


def _facts(assignment: Assignment) -> dict:
    """What every assignment event names: its audit sentence and the auditors' scope read these."""
    return {"programme": assignment.programme.slug, "organisation_id": assignment.organisation_id,
            "user_id": assignment.user_id}


def _due_facts(assignment: Assignment) -> dict:
    return {"due_at": assignment.due_at.isoformat() if assignment.due_at else None, "due_days": assignment.due_days}


def change_due(actor: User, assignment: Assignment, *, due_at: datetime | None = None,
               due_days: int | None = None) -> int:
    """Give an assignment a new due rule and move the due dates of the enrolments it made, as they
    would have been had it been made with this rule (services.due_under, from when each agent got
    it). Certificates, progress and recertification deadlines stay. Returns the enrolments moved.

    The programme and the target stay: changing those is removing the assignment and making another.
    """
    if (due_at is None) == (due_days is None):
        raise CertificationError(_("Give either a due date or a number of days."))
    before = _due_facts(assignment)
    assignment.due_at, assignment.due_days = due_at, due_days
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.assignment_id == assignment.id)
                                    .options(joinedload(Enrolment.user), joinedload(Enrolment.current_award))).all()
    for enrolment in enrolments:
        enrolment.due_at = due_under(assignment, enrolment.user, enrolment.assigned_at)
        refresh_snapshot(enrolment)
    record("assignment.changed", actor=actor, target=assignment, **_facts(assignment), **_due_facts(assignment),
           before=before, enrolments=len(enrolments))
    return len(enrolments)


@dataclass(frozen=True)
class Removal:
    """What removing an assignment does to the enrolments it made."""

    ended: int  # agents no longer enrolled in the programme
    kept: int  # agents another assignment of the same programme keeps enrolled, with its due date


def _successors(assignment: Assignment) -> list[tuple[Enrolment, Assignment | None]]:
    """The assignment's enrolments, each with the assignment that enrols its agent in the same
    programme once this one is gone (the oldest, as services.sync_enrolments picks), or None."""
    others = db.session.scalars(select(Assignment).where(Assignment.programme_id == assignment.programme_id,
                                                         Assignment.id != assignment.id)
                                .order_by(Assignment.id)).all()
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.assignment_id == assignment.id)
                                    .options(joinedload(Enrolment.user), joinedload(Enrolment.current_award))).all()
    return [(enrolment, next((other for other in others if other.user_id == enrolment.user_id
                              or (other.organisation_id is not None
                                  and other.organisation_id == enrolment.user.organisation_id)), None))
            for enrolment in enrolments]


def removal_preview(assignment: Assignment) -> Removal:
    """What `unassign` would do, for its confirmation page."""
    successors = [successor for _enrolment, successor in _successors(assignment)]
    kept = sum(successor is not None for successor in successors)
    return Removal(ended=len(successors) - kept, kept=kept)


def unassign(actor: User, assignment: Assignment) -> Removal:
    """Remove an assignment: the programme no longer counts as assigned to its agents.

    The enrolments it made go, and with them their due dates, statuses, reminders and webhooks
    about the programme (an enrolment is exactly "this agent must hold this programme"; keeping
    it, even marked not mandatory, would keep the agent on the dashboard as overdue). What the
    agent did stays: lesson progress, attempts and awards are rows of their own, so certificates
    still verify and sit in the agent's history; assigned again later, the agent's new enrolment
    takes up the award they hold (services.sync_enrolments). An agent that another assignment of
    the same programme also covers (their own, or their organisation's) stays enrolled, moved to
    that assignment with its due date, keeping their progress in the cycle and their award.
    """
    ended = kept = 0
    for enrolment, successor in _successors(assignment):
        if successor is None:
            ended += 1
            db.session.delete(enrolment)
            continue
        kept += 1
        enrolment.assignment_id, enrolment.mandatory = successor.id, successor.mandatory
        enrolment.assigned_at = assigned_from(successor, enrolment.user)
        enrolment.due_at = due_under(successor, enrolment.user, enrolment.assigned_at)
        refresh_snapshot(enrolment)
    record("assignment.removed", actor=actor, target=assignment, **_facts(assignment), **_due_facts(assignment),
           ended=ended, kept=kept)
    db.session.delete(assignment)
    db.session.flush()
    return Removal(ended=ended, kept=kept)
