"""Filling the outbox: each learning event's statements, in the transaction of the event itself.

The subscribers below listen to the domain signals (lms/signals.py) that the owning services send,
so learning, assessment and certification know nothing of xAPI. A row costs the request one
INSERT; sending is the delivery job's. People whose data is restricted (Arts 18, 21) or erased
(Art. 17) get no statements at all.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select

from lms import signals
from lms.accounts.models import Organisation, User
from lms.question_types import question_type
from lms.clock import now
from lms.extensions import db
from lms.learning.models import Quiz
from lms.xapi import statements
from lms.xapi.models import OutboxState, XapiStatement


def may_send(user: User) -> bool:
    """Whether this person's learning may leave the app as statements."""
    return user.restricted_at is None and user.erased_at is None


def enqueue(user: User, events: Sequence[tuple[str, dict[str, Any], datetime]]) -> int:
    """Add statements (kind, statement, when it happened) to the outbox in one INSERT; the caller's
    transaction commits them. Returns how many were added: none for a restricted or erased person."""
    if not events or not may_send(user):
        return 0
    at = now()
    db.session.execute(insert(XapiStatement), [
        {"statement_id": statement["id"], "user_id": user.id, "kind": kind, "statement": statement,
         "occurred_at": occurred_at, "state": OutboxState.QUEUED, "attempts": 0, "next_try_at": at, "created_at": at}
        for kind, statement, occurred_at in events])
    return len(events)


def withhold(row: XapiStatement) -> None:
    """Never send it: the person is restricted or erased. Its content (their learning) goes too."""
    row.state, row.statement = OutboxState.WITHHELD, {"id": row.statement_id}
    row.next_try_at = row.claim = row.claimed_at = None


def statements_of(person: User) -> Select:
    return select(XapiStatement.id).where(XapiStatement.user_id == person.id)


def forget(person: User) -> None:
    """Erasure (Art. 17): the content of every statement about the person goes, sent or not (the
    actor, their e-mail where their organisation sends it, their answers); what was not sent never is.
    Copies the LRS received are the LRS's to erase."""
    for row in db.session.scalars(select(XapiStatement).where(XapiStatement.user_id == person.id)):
        if row.state is OutboxState.DELIVERED:
            row.statement = {"id": row.statement_id}
        else:
            withhold(row)


@signals.lesson_completed.connect
def _lesson_completed(agent: User, *, version, lesson, **_: object) -> None:
    at = now()
    statement = statements.lesson_experienced(statements.actor(agent), version, lesson, at)
    enqueue(agent, [("lesson_experienced", statement, at)])


@signals.attempt_started.connect
def _attempt_started(agent: User, *, attempt, **_: object) -> None:
    statement = statements.quiz_attempted(statements.actor(agent), attempt.quiz.slug, attempt)
    enqueue(agent, [("quiz_attempted", statement, attempt.started_at)])


@signals.attempt_finished.connect
def _attempt_finished(agent: User, *, attempt, **_: object) -> None:
    """Per question the response and its grade (a simulation: the path taken), then the result.

    Submitting is the busiest write there is: what the statements need beyond the graded attempt
    (the quiz's slug, the organisation's choice of identity) is one query, and the rows one INSERT.
    """
    if not may_send(agent):
        return
    from lms.assessment.services import compute_grade, published

    by_email = select(Organisation.xapi_identify_by_email).where(Organisation.id == agent.organisation_id)
    slug, by_email = db.session.execute(
        select(Quiz.slug, by_email.scalar_subquery()).where(Quiz.id == attempt.quiz_id)).one()
    who = statements.actor(agent, by_email)
    items = published(attempt.quiz_version).items
    grades = compute_grade(attempt, attempt.quiz_version).items
    events = []
    for answer in sorted(attempt.answers, key=lambda a: a.position):
        item = items[answer.item_id]
        if answer.response in (None, [], ""):  # a question left blank was not answered
            continue
        grade = grades[answer.position]
        if question_type(item).stepwise:  # a path of replies, not one answer
            statement = statements.simulation_path(who, slug, attempt, answer.position, item,
                                                   list(answer.response or []), grade)
            events.append(("simulation_path", statement, attempt.finished_at))
        else:
            statement = statements.question_answered(who, slug, attempt, answer.position, item, answer.response,
                                                     grade)
            events.append(("question_answered", statement, attempt.finished_at))
    kind = "quiz_passed" if attempt.passed else "quiz_failed"
    events.append((kind, statements.quiz_result(who, slug, attempt), attempt.finished_at))
    enqueue(agent, events)


@signals.award_issued.connect
def _award_issued(_actor: User | None, *, award, **__: object) -> None:
    user = db.session.get(User, award.user_id)
    enqueue(user, [("certificate_earned", statements.certificate_earned(statements.actor(user), award),
                     award.issued_at)])


@signals.award_revoked.connect
def _award_revoked(_actor: User | None, *, award, **__: object) -> None:
    user = db.session.get(User, award.user_id)
    enqueue(user, [("certificate_revoked", statements.certificate_revoked(statements.actor(user), award),
                     award.revoked_at)])
