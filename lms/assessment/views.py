"""Taking a quiz one question per page, the review page, and the result."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms import signals
from lms.assessment import services
from lms.assessment.autosave import store_answer
from lms.assessment.lesson_links import section_links
from lms.assessment.models import Attempt, AttemptStatus
from lms.assessment.ownership import own_attempt_params, own_attempt_query
from lms.question_types import ResponseError, question_type
from lms.clock import now
from lms.content.translations import text_or
from lms.errors import wants_json
from lms.extensions import db
from lms.learning import translated
from lms.learning.models import Course, CourseVersion, Quiz, QuizVersion

bp = Blueprint("assessment", __name__)


def _quiz(slug: str) -> Quiz:
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == slug, Quiz.archived_at.is_(None)))
    if quiz is None or quiz.current_version is None:
        abort(404)
    return quiz


def _own_attempt(attempt_id: int) -> Attempt:
    """The signed-in agent's own attempt; anyone else's is a 404, for reading and for writing."""
    attempt = db.session.scalar(_OWN_ATTEMPT, own_attempt_params(current_user, attempt_id))
    if attempt is None:
        abort(404)
    return attempt


# Every page of an attempt needs its quiz version: load both in one query, without the spec
# (services.published keeps it decoded). Built once: this runs on every answer saved.
_OWN_ATTEMPT = own_attempt_query().options(joinedload(Attempt.quiz_version).defer(QuizVersion.spec))


def _course_for(quiz: Quiz) -> CourseVersion | None:
    return db.session.scalar(select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
                             .where(CourseVersion.quiz_slug == quiz.slug, Course.archived_at.is_(None)))


@bp.route("/quizzes/<slug>")
def quiz(slug: str):
    quiz = _quiz(slug)
    state = services.availability(current_user, quiz, quiz.current_version)
    if state.in_progress is not None and services.close_if_overdue(state.in_progress):
        db.session.commit()
        flash(_("Your previous attempt reached its time limit and was closed with the answers you had saved."), "info")
        state = services.availability(current_user, quiz, quiz.current_version)
    spec = quiz.current_version.spec
    shown = translated.shown_one("quiz", slug, quiz.current_version.content_hash)
    text = translated.shown_text(shown)
    # The landing page shows the quiz's name and description; its questions are translated
    # when an attempt starts (services.shown_quiz).
    spec = {**spec, "title": text_or(text, "title", spec["title"]),
            "description": text_or(text, "description", spec.get("description"))}
    return render_template("assessment/quiz.html", quiz=quiz, spec=spec, state=state, shown=shown,
                           attempts=services.attempts_for(current_user, quiz), course=_course_for(quiz),
                           item_count=sum(rule["count"] for rule in spec["draw"]))


@bp.route("/quizzes/<slug>/start", methods=["POST"])
def start(slug: str):
    quiz = _quiz(slug)
    try:
        attempt = services.start_attempt(current_user, quiz)
        db.session.commit()
    except services.AttemptError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("assessment.quiz", slug=slug))
    except IntegrityError:  # a second tab started one at the same moment: resume that one
        db.session.rollback()
        attempt = services.availability(current_user, quiz, quiz.current_version).in_progress
    answered = set(services.answers_by_position(attempt))
    first_open = next((p for p in range(1, len(attempt.draw) + 1) if p not in answered), 1)
    return redirect(url_for("assessment.question", attempt_id=attempt.id, position=first_open))


@bp.route("/attempts/<int:attempt_id>/questions/<int:position>", methods=["GET", "POST"])
def question(attempt_id: int, position: int):
    attempt = _own_attempt(attempt_id)
    if services.close_if_overdue(attempt):
        db.session.commit()
        return _closed(_("Time is up. Your attempt was closed with the answers saved before the deadline."), attempt)
    if attempt.finished:
        return _closed(_("This attempt has already been submitted, so nothing was changed."), attempt)
    try:
        item, shown = services.item_at(attempt, position)
    except LookupError:
        abort(404)
    qtype, error = question_type(item), None
    if request.method == "POST":
        action = request.form.get("action", "next")
        has_answer = services.has_answer(request.form)
        if not has_answer and action == "say":
            error = _("Choose what you say next.")
        elif not has_answer and action == "save" and not qtype.stepwise:
            try:  # everything was unticked: the question goes back to unanswered
                services.clear_answer(current_user, attempt, position)
                db.session.commit()
            except services.AttemptClosed as exc:
                db.session.commit()
                return _closed(str(exc), attempt)
        if has_answer:
            try:
                services.save_answer(current_user, attempt, position, request.form)
                db.session.commit()
            except services.AttemptClosed as exc:
                db.session.commit()
                return _closed(str(exc), attempt)
            except ResponseError as exc:
                db.session.rollback()
                error = str(exc)
        if error is None:
            if qtype.stepwise and action == "say":
                # Back to the caller's new line: the fragment scrolls to it, quiz.js gives it focus.
                return redirect(url_for("assessment.question", attempt_id=attempt.id, position=position,
                                        _anchor="caller-now"))
            target = {"back": position - 1, "next": position + 1}.get(action, 0)
            if 1 <= target <= len(attempt.draw):
                return redirect(url_for("assessment.question", attempt_id=attempt.id, position=target))
            return redirect(url_for("assessment.review", attempt_id=attempt.id))
    saved = services.saved_answers(attempt)
    response = saved[position][1] if position in saved else None
    answered, total = services.progress(attempt, saved.values())
    return render_template(
        "assessment/question.html", attempt=attempt, item=item, shown=shown, position=position,
        total=total, answered=answered, answer=response, error=error,
        qtype=qtype, view=qtype.display(item, shown, response),
        seconds_left=_seconds_left(attempt), quiz_title=services.shown_quiz(attempt).spec["title"],
        # A refused answer shows what was typed, not what was saved before it (an ordering's positions).
        typed=request.form if error and request.method == "POST" else None,
    ), (422 if error else 200)


@bp.route("/attempts/<int:attempt_id>/answers/<int:position>", methods=["POST"])
def autosave(attempt_id: int, position: int):
    """Save the answer to one question as the agent changes it (static/js/quiz.js), as JSON.

    The question page's own form posts do the same without JavaScript; this is the fast
    path for the request an exam sitting makes most (see lms/assessment/autosave.py).
    The policy rule (OWN_ATTEMPT) is applied in store_answer, by the query that signs the request in.
    """
    try:
        answered, total = store_answer(attempt_id, position, request.form)
    except LookupError:
        abort(404)
    except services.AttemptClosed as exc:
        db.session.commit()  # closing an overdue attempt is kept
        return {"saved": False, "error": str(exc)}, 409
    except ResponseError as exc:
        db.session.rollback()
        return {"saved": False, "error": str(exc)}, 422
    # The common case wrote on a connection of its own and never opened the ORM session:
    # there is nothing to commit, and creating a session to find that out costs more than the write.
    if db.session.registry.has():
        db.session.commit()
    return {"saved": True, "error": None, "answered": answered, "total": total}


def _earned(attempt: Attempt) -> list:
    """What a pass earned (certification's awards, through the signal), for the result page."""
    if not attempt.passed:
        return []
    return [earned for _, found in signals.attempt_passed_shown.send(current_user._get_current_object(),
                                                                      attempt=attempt) for earned in found]


def _seconds_left(attempt: Attempt) -> int | None:
    return None if attempt.deadline is None else max(0, int((attempt.deadline - now()).total_seconds()))


def _closed(message: str, attempt: Attempt):
    if wants_json():
        return {"saved": False, "error": message}, 409
    flash(message, "warning")
    return redirect(url_for("assessment.result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/review")
def review(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if services.close_if_overdue(attempt):
        db.session.commit()
    if attempt.finished:
        return redirect(url_for("assessment.result", attempt_id=attempt.id))
    shown = services.shown_quiz(attempt)
    items = shown.items
    saved = services.answers_by_position(attempt)
    rows = []
    for position, entry in enumerate(attempt.draw, start=1):
        item = items[entry["item"]]
        answer = saved.get(position)
        rows.append({"position": position, "item": item,
                     "answered": bool(answer) and question_type(item).answered(item, answer.response)})
    answered, total = services.progress(attempt)
    return render_template("assessment/review.html", attempt=attempt, rows=rows, answered=answered, total=total,
                           seconds_left=_seconds_left(attempt), quiz_title=shown.spec["title"])


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
def submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    won = services.submit(current_user, attempt)
    expired = attempt.status is AttemptStatus.EXPIRED  # read before the commit expires it
    db.session.commit()
    if not won:
        message = (_("Time is up: your attempt was closed with the answers saved before the deadline.")
                   if expired else _("This attempt was already submitted."))
        if wants_json():
            return {"submitted": False, "error": message}, 409
        flash(message, "info")
    elif wants_json():
        return {"submitted": True, "result": url_for("assessment.result", attempt_id=attempt_id)}
    return redirect(url_for("assessment.result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>")
def result(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if services.close_if_overdue(attempt):
        db.session.commit()
    if not attempt.finished:
        return redirect(url_for("assessment.review", attempt_id=attempt.id))
    quiz = services.shown_quiz(attempt)
    spec, items = quiz.spec, quiz.items
    saved = services.answers_by_position(attempt)
    review_rows = []
    for position, entry in enumerate(attempt.draw, start=1):
        item = items[entry["item"]]
        answer = saved.get(position)
        review_rows.append({"position": position, "item": item, "shown": entry["shown"],
                            "response": answer.response if answer else None, "answer": answer,
                            "missed": answer is None or answer.earned is None or answer.earned < answer.possible})
    # Each missed question links to the lesson section that teaches it.
    reread = section_links(row["item"] for row in review_rows if row["missed"])
    for row in review_rows:
        row["reread"] = reread.get(row["item"]["id"]) if row["missed"] else None
    state = services.availability(current_user, attempt.quiz, attempt.quiz.current_version)
    return render_template("assessment/result.html", attempt=attempt, spec=spec, rows=review_rows,
                           awards=_earned(attempt),
                           may_review=services.may_review(attempt), state=state,
                           critical=services.critical_replies(attempt),
                           reread=list(dict.fromkeys(reread.values())),
                           references=sorted({ref for row in review_rows for ref in row["item"]["references"]}))
