"""Filling the outbox: each learning event's statements, in the transaction of the event itself.

The subscribers below listen to the domain signals (lms/signals.py) that the owning services send,
so learning, assessment and certification know nothing of xAPI. A row costs the request one
INSERT; sending is the delivery job's. People whose data is restricted (Arts 18, 21) or erased
(Art. 17) get no statements at all.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from lms import signals
from lms.accounts.models import User
from lms.clock import now
from lms.extensions import db
from lms.xapi import statements
from lms.xapi.models import OutboxState, XapiStatement


def may_send(user: User) -> bool:
    """Whether this person's learning may leave the app as statements."""
    return user.restricted_at is None and user.erased_at is None


def enqueue(user: User, kind: str, statement: dict[str, Any], occurred_at: datetime) -> XapiStatement | None:
    """Add one statement to the outbox (the caller's transaction commits it); None when withheld."""
    if not may_send(user):
        return None
    row = XapiStatement(statement_id=statement["id"], user_id=user.id, kind=kind, statement=statement,
                        occurred_at=occurred_at, state=OutboxState.QUEUED, attempts=0, next_try_at=now())
    db.session.add(row)
    return row


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
    enqueue(agent, "lesson_experienced", statements.lesson_experienced(agent, version, lesson, at), at)


@signals.attempt_started.connect
def _attempt_started(agent: User, *, attempt, **_: object) -> None:
    enqueue(agent, "quiz_attempted", statements.quiz_attempted(agent, attempt), attempt.started_at)


@signals.attempt_finished.connect
def _attempt_finished(agent: User, *, attempt, **_: object) -> None:
    """Per question the response and its grade (a simulation: the path taken), then the result."""
    if not may_send(agent):
        return
    from lms.assessment.services import compute_grade, published

    items = published(attempt.quiz_version).items
    grades = compute_grade(attempt, attempt.quiz_version).items
    for answer in sorted(attempt.answers, key=lambda a: a.position):
        item = items[answer.item_id]
        if answer.response in (None, [], ""):  # a question left blank was not answered
            continue
        grade = grades[answer.position]
        if item["type"] == "call_simulation":
            statement = statements.simulation_path(agent, attempt, answer.position, item,
                                                   list(answer.response or []), grade)
            enqueue(agent, "simulation_path", statement, attempt.finished_at)
        else:
            statement = statements.question_answered(agent, attempt, answer.position, item, answer.response, grade)
            enqueue(agent, "question_answered", statement, attempt.finished_at)
    kind = "quiz_passed" if attempt.passed else "quiz_failed"
    enqueue(agent, kind, statements.quiz_result(agent, attempt), attempt.finished_at)


@signals.award_issued.connect
def _award_issued(_actor: User | None, *, award, **__: object) -> None:
    user = db.session.get(User, award.user_id)
    enqueue(user, "certificate_earned", statements.certificate_earned(user, award), award.issued_at)


@signals.award_revoked.connect
def _award_revoked(_actor: User | None, *, award, **__: object) -> None:
    user = db.session.get(User, award.user_id)
    enqueue(user, "certificate_revoked", statements.certificate_revoked(user, award), award.revoked_at)
