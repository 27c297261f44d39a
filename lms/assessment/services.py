"""Taking a quiz: availability, drawing, saving answers, submitting, closing, grading.

Services flush and never commit; the view or command commits once.
Integrity rules live here: deadlines are enforced from the stored deadline,
an attempt accepts answers only while in progress, and submitting is a
conditional UPDATE so that only one of many parallel submits grades it.
"""
from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Connection, bindparam, select, text, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import MultiDict

from lms import plain_rows, signals
from lms.accounts.models import User
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.question_types import CriticalReply, Grade, item_points, question_type
from lms.audit.services import record
from lms.clock import UTCDateTime, now
from lms.content.model import review_mode
from lms.content.translations import translated_quiz_spec
from lms.driver_statements import DriverStatement
from lms.extensions import db
from lms.i18n import current_language, datetime_local, user_language
from lms.learning import translated
from lms.learning.models import Quiz, QuizVersion

PHASES = ("before", "during", "after")


class AttemptError(Exception):
    """The attempt cannot do what was asked; the message is shown to the agent."""


class AttemptClosed(AttemptError):
    """The attempt was already submitted or closed at its time limit."""


# ---- what the quiz allows ------------------------------------------------------------

@dataclass(frozen=True)
class Availability:
    in_progress: Attempt | None
    attempts_used: int
    max_attempts: int | None
    opens_at: datetime | None  # when the cooldown ends, if it has not yet
    reason: str = ""

    @property
    def can_start(self) -> bool:
        return self.in_progress is None and not self.reason


def availability(agent: User, quiz: Quiz, version: QuizVersion, at: datetime | None = None) -> Availability:
    """Whether the agent may start (or resume) an attempt now, and if not, why and until when."""
    at = at or now()
    attempts = db.session.scalars(select(Attempt).where(
        Attempt.user_id == agent.id, Attempt.quiz_id == quiz.id).order_by(Attempt.started_at)).all()
    current = next((a for a in attempts if a.status is AttemptStatus.IN_PROGRESS), None)
    max_attempts = version.spec["attempts"].get("max")
    cooldown = timedelta(minutes=version.spec["attempts"].get("cooldown_minutes", 0))
    finished = [a for a in attempts if a.finished]
    # The limit is on attempts to pass: a pass starts the count again, so an agent can
    # recertify next cycle however many attempts the last cycle took.
    last_pass = max((i for i, a in enumerate(attempts) if a.passed), default=-1)
    attempts = attempts[last_pass + 1:]
    opens_at = None
    reason = ""
    if current is None and max_attempts is not None and len(attempts) >= max_attempts:
        reason = ngettext("You have used your %(num)s attempt at this quiz. Your trainer can tell you what comes next.",
                          "You have used all %(num)s attempts at this quiz. Your trainer can tell you what comes next.",
                          max_attempts)
    elif current is None and finished and cooldown:
        opens_at = finished[-1].finished_at + cooldown
        if opens_at > at:
            reason = _("Your next attempt opens at %(when)s, in %(wait)s. Use the time to reread the lessons.",
                       when=datetime_local(opens_at, "short"), wait=_duration(opens_at - at))
        else:
            opens_at = None
    return Availability(current, len(attempts), max_attempts, opens_at, reason)


def _duration(delta: timedelta) -> str:
    minutes = max(1, -(-int(delta.total_seconds()) // 60))
    if minutes <= 60:
        return ngettext("%(num)s minute", "%(num)s minutes", minutes)
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)s h %(minutes)s min", hours=hours, minutes=str(minutes).zfill(2))


# ---- starting ---------------------------------------------------------------------------

def items_by_id(spec: dict) -> dict[str, dict]:
    return {item["id"]: item for item in spec["questions"]}


@dataclass(frozen=True)
class PublishedQuiz:
    """A quiz version's spec and its items by id. Shared between requests: read, never change."""

    spec: dict
    items: dict[str, dict]


# A published version never changes and is named by the hash of its content, so its
# decoded spec can be kept for the life of the process: saving an answer then needs
# neither the 30 kB spec from the database nor its JSON decoded. A few hundred
# versions at most, so no eviction.
_PUBLISHED: dict[str, PublishedQuiz] = {}


def published(version: QuizVersion) -> PublishedQuiz:
    """The version's spec, decoded once per process (load versions with the spec deferred)."""
    quiz = _PUBLISHED.get(version.content_hash)
    if quiz is None:
        quiz = _PUBLISHED[version.content_hash] = PublishedQuiz(version.spec, items_by_id(version.spec))
    return quiz


def shown_quiz(attempt: Attempt) -> PublishedQuiz:
    """The quiz as this attempt shows it: in the language it started in, for all of it.

    Only the text differs from `published` (lms.content.translations.translated_quiz_spec), so
    grading, which reads `published`, is the same in every language."""
    source = published(attempt.quiz_version)
    if attempt.translation_id is None:
        return source
    key = f"{attempt.quiz_version.content_hash}/{attempt.translation_id}"
    quiz = _PUBLISHED.get(key)
    if quiz is None:
        spec = translated_quiz_spec(source.spec, translated.text(attempt.translation_id))
        quiz = _PUBLISHED[key] = PublishedQuiz(spec, items_by_id(spec))
    return quiz


def published_by_hash(content_hash: str, version_id: int) -> PublishedQuiz:
    """published() for a version known by its id and hash: loaded only the first time."""
    return _PUBLISHED.get(content_hash) or published(db.session.get(QuizVersion, version_id))


def draw_items(spec: dict, rng: random.Random) -> list[dict]:
    """Apply the draw rules in order, without replacement; record what each item shows."""
    drawn: list[dict] = []
    taken: set[str] = set()
    for rule in spec["draw"]:
        pool = [item for item in spec["questions"]
                if item["id"] not in taken and item["phase"] == rule["phase"]
                and (not rule.get("types") or item["type"] in rule["types"])]
        for item in rng.sample(pool, rule["count"]):
            taken.add(item["id"])
            drawn.append({"item": item["id"], "shown": question_type(item).prepare(item, rng)})
    return drawn


def start_attempt(agent: User, quiz: Quiz, rng: random.Random | None = None) -> Attempt:
    """Resume the attempt in progress, or draw a new one if the limits allow it."""
    version = quiz.current_version
    state = availability(agent, quiz, version)
    if state.in_progress is not None:
        return state.in_progress
    if state.reason:
        raise AttemptError(state.reason)
    started = now()
    limit = version.spec.get("time_limit_minutes")
    # The questions stay in the language the attempt starts in, whatever happens to the
    # translation or the agent's language before it is submitted.
    language = current_language() if has_request_context() else user_language(agent)
    shown = translated.shown_one("quiz", quiz.slug, version.content_hash, language)
    attempt = Attempt(
        user=agent, quiz=quiz, quiz_version=version, status=AttemptStatus.IN_PROGRESS, started_at=started,
        deadline=started + timedelta(minutes=limit) if limit else None,
        draw=draw_items(version.spec, rng or random.Random(secrets.randbits(64))),
        translation_id=shown.translation_id, language=shown.language,
    )
    db.session.add(attempt)
    db.session.flush()  # the partial unique index refuses a second attempt in progress here
    record("attempt.started", actor=agent, target=attempt, quiz=quiz.slug,
           version=version.content_hash[:12], items=len(attempt.draw))
    signals.attempt_started.send(agent, attempt=attempt)
    return attempt


# ---- during the attempt --------------------------------------------------------------

def item_at(attempt: Attempt, position: int) -> tuple[dict, dict]:
    """The spec of the item at a 1-based position and what the attempt shows of it."""
    if not 1 <= position <= len(attempt.draw):
        raise LookupError(position)
    entry = attempt.draw[position - 1]
    return shown_quiz(attempt).items[entry["item"]], entry["shown"]


def answers_by_position(attempt: Attempt) -> dict[int, Answer]:
    return {answer.position: answer for answer in attempt.answers}


def close_if_overdue(attempt: Attempt, at: datetime | None = None) -> bool:
    """Close an attempt whose deadline has passed, grading what was saved. True if it closed it."""
    at = at or now()
    if attempt.status is not AttemptStatus.IN_PROGRESS or attempt.deadline is None or at <= attempt.deadline:
        return False
    if not _finish(attempt, AttemptStatus.EXPIRED, attempt.deadline):
        return False
    record("attempt.closed", actor=None, target=attempt, reason="time limit", percent=attempt.percent,
           passed=attempt.passed)
    return True


def _claim_open_attempt(attempt: Attempt) -> None:
    """Refuse changes after the deadline or submission, and hold the attempt while changing it."""
    if close_if_overdue(attempt):
        raise AttemptClosed(_("Time is up. Your attempt was closed with the answers saved before the deadline."))
    # Claim the attempt row (a row lock on PostgreSQL, the write lock on SQLite) while it is
    # still in progress, so a submit in another request cannot slip in between check and write.
    claimed = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.IN_PROGRESS).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise AttemptClosed(_("This attempt has already been submitted, so the answer was not changed."))


def clear_answer(agent: User, attempt: Attempt, position: int) -> None:
    """Forget the answer at a position (the agent unticked everything)."""
    _claim_open_attempt(attempt)
    answer = answers_by_position(attempt).get(position)
    if answer is not None:
        attempt.answers.remove(answer)
        db.session.delete(answer)
        db.session.flush()


# The fields of a question form that are not the answer: the rest belong to the item's type.
# (`position` is the authoring preview's.)
CONTROL_FIELDS = frozenset({"csrf_token", "action", "position"})


def has_answer(form: MultiDict) -> bool:
    """Whether a question form holds an answer: any field of the type's with a value. Empty
    dropdowns, an empty box and no ticked box mean "not answered (yet)", not a bad answer."""
    return any(value.strip() for key, value in form.items(multi=True) if key not in CONTROL_FIELDS)


def save_answer(agent: User, attempt: Attempt, position: int, form: MultiDict) -> int:
    """Store the answer to one item now, while the attempt is open and before its deadline.

    Returns how many items are answered. The question page's form posts come here, and
    so do the autosave's uncommon cases (autosave.py has the common one). The write
    inserts or replaces the answer only while the attempt is still in progress and inside
    its deadline, which makes the check and the change one atomic statement (on
    PostgreSQL it also locks the attempt row, so a parallel submit waits for it and then
    grades it, or wins and the save changes nothing).
    """
    if close_if_overdue(attempt):
        raise AttemptClosed(_("Time is up. Your attempt was closed with the answers saved before the deadline."))
    item, shown = item_at(attempt, position)
    saved = {row.position: row for row in db.session.execute(_SAVED_ANSWERS, {"attempt_id": attempt.id})}
    previous = saved[position].response if position in saved else None
    response = question_type(item).parse(item, shown, form, previous)
    if not write_answer(db.session.connection(), attempt.id, position, item["id"], response):
        db.session.refresh(attempt)
        if close_if_overdue(attempt):
            raise AttemptClosed(_("Time is up. Your attempt was closed with the answers saved before the deadline."))
        raise AttemptClosed(_("This attempt has already been submitted, so the answer was not changed."))
    _forget_loaded_answers(attempt)
    now_saved = {pos: (row.item_id, row.response) for pos, row in saved.items()} | {position: (item["id"], response)}
    return count_answered(published(attempt.quiz_version).items, now_saved.values())


_SAVED_ANSWERS = select(Answer.position, Answer.item_id, Answer.response).where(
    Answer.attempt_id == bindparam("attempt_id"))


def write_answer(connection: Connection, attempt_id: int, position: int, item_id: str, response: Any) -> bool:
    """Insert or replace one answer if the attempt is open and inside its deadline; False if not.

    The check and the write are one statement (see _ANSWER_UPSERT), so it needs no
    transaction around it: autosave runs it on an autocommit connection.
    """
    saved_at = UTCDateTime().process_bind_param(now(), connection.dialect)  # the driver takes naive UTC
    return _ANSWER_UPSERT[connection.dialect.name].rowcount(connection, {
        "attempt_id": attempt_id, "position": position, "item_id": item_id, "response": json.dumps(response),
        "saved_at": saved_at, "in_progress": AttemptStatus.IN_PROGRESS.value}) == 1


def _forget_loaded_answers(attempt: Attempt) -> None:
    """The write bypassed the ORM: make it reload the answers it holds when next asked."""
    if "answers" in attempt.__dict__:
        for answer in attempt.answers:
            db.session.expire(answer)
        db.session.expire(attempt, ["answers"])


def _answer_upsert(postgres: bool) -> DriverStatement:
    """INSERT .. SELECT FROM the open attempt .. ON CONFLICT UPDATE.

    Plain SQL, run on the driver's cursor: this statement runs on every answer an agent
    gives. Both databases speak this upsert; PostgreSQL also locks the attempt row (FOR
    UPDATE) and wants the JSON cast.
    """
    response = "CAST(:response AS JSON)" if postgres else ":response"
    return DriverStatement(text(
        "INSERT INTO answer (attempt_id, position, item_id, response, saved_at) "
        f"SELECT id, :position, :item_id, {response}, :saved_at FROM attempt "
        "WHERE id = :attempt_id AND status = :in_progress AND (deadline IS NULL OR deadline >= :saved_at)"
        f"{' FOR UPDATE' if postgres else ''} "
        "ON CONFLICT (attempt_id, position) DO UPDATE SET response = excluded.response, saved_at = excluded.saved_at"
    ))


_ANSWER_UPSERT = {"sqlite": _answer_upsert(postgres=False), "postgresql": _answer_upsert(postgres=True)}


def progress(attempt: Attempt, saved: Iterable[tuple[str, Any]] | None = None) -> tuple[int, int]:
    """(items answered, items in the attempt); `saved`: its (item id, response) pairs, if already read."""
    if saved is None:
        saved = ((answer.item_id, answer.response) for answer in attempt.answers)
    return count_answered(published(attempt.quiz_version).items, saved), len(attempt.draw)


def saved_answers(attempt: Attempt) -> dict[int, tuple[str, Any]]:
    """The attempt's saved answers by position, as (item id, response), read as plain rows: the
    question page shows one and counts them, and loading Answer objects for that cost a tenth of it."""
    return {row.position: (row.item_id, row.response)
            for row in plain_rows.rows(_SAVED_ANSWERS, {"attempt_id": attempt.id})}


def count_answered(items: dict[str, dict], saved: Iterable[tuple[str, Any]]) -> int:
    """How many of these (item id, response) pairs count as answered for their question type."""
    return sum(1 for item_id, response in saved if question_type(items[item_id]).answered(items[item_id], response))


# ---- submitting and grading -------------------------------------------------------------

def submit(agent: User, attempt: Attempt) -> bool:
    """Submit and grade. False when it was already submitted or closed (a parallel submit won)."""
    if close_if_overdue(attempt):
        return False
    if not _finish(attempt, AttemptStatus.SUBMITTED):
        return False
    record("attempt.submitted", actor=agent, target=attempt, percent=attempt.percent, passed=attempt.passed)
    return True


def _finish(attempt: Attempt, status: AttemptStatus, at: datetime | None = None) -> bool:
    """The conditional update that only one request can win, then the grade.

    `at` is when it finished; None means now, read once the update holds the attempt (the
    row lock on PostgreSQL, the write lock on SQLite): an answer that got in while this
    waited for the lock is then graded and saved before the attempt finished, as it was.
    """
    won = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=status).execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.refresh(attempt)  # whoever won says what it is now
        return False
    # Won: the row is ours and only its status changed, so say so without reading it again.
    set_committed_value(attempt, "status", status)
    # The answers are read now that the update holds the attempt, so that answers saved
    # meanwhile count (a list loaded earlier is dropped, as refreshing the attempt did), and
    # before finished_at is set, so that it goes out with the grade in one UPDATE.
    db.session.expire(attempt, ["answers"])
    answers_by_position(attempt)
    attempt.finished_at = at or now()
    apply_grade(attempt, attempt.quiz_version)
    # A passed quiz may complete a programme: certification decides (and audits) an award.
    signals.attempt_finished.send(attempt.user, attempt=attempt)
    return True


@dataclass(frozen=True)
class AttemptGrade:
    earned: float
    possible: float
    percent: float
    passed: bool
    phases: dict[str, dict[str, float]]
    items: dict[int, Grade]  # by position

    @property
    def critical(self) -> dict[int, CriticalReply]:
        """The critical replies given, by position: any one fails the attempt."""
        return {position: grade.critical for position, grade in self.items.items() if grade.critical}


def compute_grade(attempt: Attempt, version: QuizVersion) -> AttemptGrade:
    """Grade the attempt's saved answers with a version's key (items matched by id)."""
    quiz = published(version)
    items = quiz.items
    if version.id != attempt.quiz_version_id:  # a regrade: items the new version dropped keep their own key
        items = {**published(attempt.quiz_version).items, **items}
    saved = answers_by_position(attempt)
    return grade_responses(quiz.spec, items, attempt.draw,
                           {position: answer.response for position, answer in saved.items()})


def grade_responses(spec: dict, items: Mapping[str, dict], draw: Sequence[dict],
                    responses: Mapping[int, Any]) -> AttemptGrade:
    """The grade of these responses (by 1-based position in the draw): the one rule that real
    attempts and the authoring preview share. Pure: no database, no request.

    A response counts as given even when it is unfinished (a call simulation left half-way
    earns what its replies so far earn); no response earns nothing. A critical reply in a call
    simulation fails the attempt whatever its percentage: a certificate must not certify an
    agent who committed a simulated breach.
    """
    grades: dict[int, Grade] = {}
    phases = {phase: [0.0, 0.0] for phase in PHASES}
    for position, entry in enumerate(draw, start=1):
        item = items[entry["item"]]
        response = responses.get(position)
        if response is None:
            grade = Grade(0, item_points(item))
        else:
            grade = question_type(item).grade(item, response, spec)
        grades[position] = grade
        phases[item["phase"]][0] += grade.earned
        phases[item["phase"]][1] += grade.possible
    earned = sum(g.earned for g in grades.values())
    possible = sum(g.possible for g in grades.values())
    percent = round(100 * earned / possible, 1) if possible else 0.0
    return AttemptGrade(
        earned=round(earned, 4), possible=possible, percent=percent,
        passed=percent >= spec["pass_mark"] and not any(g.critical for g in grades.values()),
        phases={phase: {"earned": round(e, 4), "possible": p, "percent": round(100 * e / p, 1)}
                for phase, (e, p) in phases.items() if p},
        items=grades,
    )


def critical_replies(attempt: Attempt) -> dict[int, CriticalReply]:
    """Why a critical failure failed the attempt: its critical replies, by position.

    Graded again, by the same pure function, with the key that graded it (its own version, or
    the one a regrade applied), so the page says what the stored result was decided on.
    """
    if not attempt.critical_failure:
        return {}
    version = attempt.quiz_version
    if attempt.graded_version_id not in (None, version.id):
        version = db.session.get(QuizVersion, attempt.graded_version_id)
    return compute_grade(attempt, version).critical


def apply_grade(attempt: Attempt, version: QuizVersion) -> AttemptGrade:
    result = compute_grade(attempt, version)
    attempt.earned, attempt.possible = result.earned, result.possible
    attempt.percent, attempt.passed, attempt.phase_scores = result.percent, result.passed, result.phases
    attempt.critical_failure = bool(result.critical)
    attempt.graded_version_id = version.id
    for answer in attempt.answers:
        grade = result.items[answer.position]
        answer.earned, answer.possible = grade.earned, grade.possible
    db.session.flush()
    return result


def close_overdue_attempts(at: datetime | None = None) -> int:
    """Close every attempt past its deadline (the job behind `lms attempts close-overdue`)."""
    at = at or now()
    overdue = db.session.scalars(select(Attempt).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline.is_not(None), Attempt.deadline < at)).all()
    return sum(close_if_overdue(attempt, at) for attempt in overdue)


def attempts_for(agent: User, quiz: Quiz) -> list[Attempt]:
    return list(db.session.scalars(select(Attempt).where(
        Attempt.user_id == agent.id, Attempt.quiz_id == quiz.id).order_by(Attempt.started_at.desc())))


def may_review(attempt: Attempt) -> bool:
    """The quiz's review policy: answers and explanations after every attempt, after passing, or never."""
    policy = review_mode(published(attempt.quiz_version).spec.get("review"))
    return attempt.finished and (policy == "after_submit" or (policy == "after_pass" and bool(attempt.passed)))

