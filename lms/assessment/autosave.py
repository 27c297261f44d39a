"""Autosave: storing an answer the moment an agent changes it (static/js/quiz.js).

This is the busiest request of an exam sitting, so its common case (an open attempt
inside its deadline and an answer that parses) takes one statement to read and one to
write:

- the read signs the request in (an expired session is refused; a session last seen
  more than a minute ago has its idle expiry slid forward by one more UPDATE, so that
  answering keeps the agent signed in), checks that the attempt is the agent's own
  (ownership.attempt_owner_query) and brings the attempt's draw, its quiz version and
  the answers saved so far, one row per saved answer;
- the write is services' conditional upsert, which stores the answer only while the
  attempt is in progress and inside its deadline (and locks the attempt row on
  PostgreSQL, so a parallel submit either waits for it or wins): the deadline is
  checked there, by the clock of the write.

Both run on an autocommit connection of their own rather than in the request's ORM
session (see accounts.services.autocommit_engine): each statement is atomic by itself, so the write is
stored when it returns, and the view's commit only concerns the uncommon cases. And both
go straight to the driver's cursor (lms/driver_statements.py), which halves what running
them costs the worker.

Everything else (everything unticked, an attempt submitted or past its deadline, an
upsert refused because the attempt closed in between) goes through services.save_answer
and services.clear_answer, which close an overdue attempt and say why nothing changed.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Text, cast
from werkzeug.datastructures import MultiDict

from lms.accounts.services import autocommit_engine, touch_session
from lms.assessment import services
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.assessment.ownership import attempt_owner_params, attempt_owner_query
from lms.question_types import ResponseError, question_type
from lms.driver_statements import DriverStatement
from lms.extensions import db
from lms.learning.models import QuizVersion
from lms.policy import authorise_attempt_owner

# One row per saved answer (a single row with NULL answer columns before the first).
# Built once: it runs on every answer an agent gives. JSON comes as text, decoded here:
# the driver would not (SQLite), and the draw repeats on every row but is decoded once.
_STATE = DriverStatement(
    attempt_owner_query(Attempt.status, cast(Attempt.draw, Text).label("draw"), QuizVersion.id.label("version_id"),
                        QuizVersion.content_hash, Answer.position, Answer.item_id,
                        cast(Answer.response, Text).label("response"))
    .outerjoin(QuizVersion, QuizVersion.id == Attempt.quiz_version_id)
    .outerjoin(Answer, Answer.attempt_id == Attempt.id)
)


def store_answer(attempt_id: int, position: int, form: MultiDict) -> tuple[int, int]:
    """Store (or clear) the answer at `position` for the signed-in owner of the attempt.

    Returns (items answered, items in the attempt). Raises what the view turns into a
    status: HTTPException 401/403/404 from the policy, LookupError for a position the
    attempt does not have, services.AttemptClosed when the attempt no longer takes
    answers, ResponseError for an answer that does not fit the question.
    """
    with autocommit_engine().connect() as connection:
        saved = _store_if_open(connection, attempt_id, position, form)
    return saved or _through_services(attempt_id, position, form)


def _store_if_open(connection: Connection, attempt_id: int, position: int,
                   form: MultiDict) -> tuple[int, int] | None:
    """The common case; None when services must take over (see the module's docstring)."""
    rows = _STATE.rows(connection, attempt_owner_params(attempt_id))
    authorise_attempt_owner(rows[0] if rows else None)
    state = rows[0]
    if state.session_due:  # answering keeps the agent signed in: one UPDATE a minute at most
        touch_session(connection, state.session_id, state.session_role)
    draw = json.loads(state.draw)
    if not 1 <= position <= len(draw):
        raise LookupError(position)
    if not services.has_answer(form) or state.status != AttemptStatus.IN_PROGRESS.value:
        return None
    quiz = services.published_by_hash(state.content_hash, state.version_id)
    entry = draw[position - 1]
    item = quiz.items[entry["item"]]
    qtype = question_type(item)
    if qtype.stepwise:
        raise ResponseError(str(qtype.stepwise))
    saved = _saved(rows)
    response = qtype.parse(item, entry["shown"], form, saved.get(position, (None, None))[1])
    if not services.write_answer(connection, attempt_id, position, item["id"], response):
        return None  # it closed in between: services say why
    saved[position] = (item["id"], response)
    return services.count_answered(quiz.items, saved.values()), len(draw)


def _saved(rows: Sequence[Any]) -> dict[int, tuple[str, Any]]:
    return {row.position: (row.item_id, json.loads(row.response)) for row in rows if row.position is not None}


def _through_services(attempt_id: int, position: int, form: MultiDict) -> tuple[int, int]:
    """The uncommon cases, with the ORM in the request's transaction: clearing an answer,
    and attempts that take none (an overdue one is closed here)."""
    attempt = db.session.get(Attempt, attempt_id)
    if services.has_answer(form):
        return services.save_answer(attempt.user, attempt, position, form), len(attempt.draw)
    services.clear_answer(attempt.user, attempt, position)
    return services.progress(attempt)
