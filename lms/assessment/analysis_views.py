"""Trainer pages: item analysis per quiz (filtered by organisation and phase) with a chart, and regrading
behind a confirmation page that asks for the reason."""
from __future__ import annotations

from base64 import b64encode

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from lms.assessment.analysis import (
    ALL, EASY_FACILITY, EASY_MARGIN, MIN_ANSWERS, NEGATIVE_DISCRIMINATION, analyse, item_map_svg, phase_chart_svg,
)
from lms.assessment.forms import RegradeForm
from lms.assessment.models import Attempt, AttemptStatus
from lms.assessment.regrade import apply_regrade, plan_regrade
from lms.assessment.services import PHASES
from lms.extensions import db
from lms.learning.models import Quiz

bp = Blueprint("analysis", __name__, url_prefix="/analysis")


def _quiz(slug: str) -> Quiz:
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == slug))
    if quiz is None or quiz.current_version is None:
        abort(404)
    return quiz


@bp.route("/quizzes")
def quiz_list():
    counts = dict(db.session.execute(select(Attempt.quiz_id, func.count()).where(
        Attempt.status != AttemptStatus.IN_PROGRESS).group_by(Attempt.quiz_id)).all())
    quizzes = db.session.scalars(select(Quiz).where(Quiz.archived_at.is_(None)).order_by(Quiz.slug)).all()
    return render_template("analysis/quiz_list.html", quizzes=quizzes, counts=counts)


@bp.route("/quizzes/<slug>")
def quiz(slug: str):
    quiz = _quiz(slug)
    analysis = analyse(current_user, quiz)
    scope = request.args.get("organisation", type=int, default=ALL)
    if scope is not ALL and scope not in analysis.organisations:
        abort(404)  # an organisation the trainer may not see, or without attempts here: nothing to show
    phase = request.args.get("phase", "")
    if phase and phase not in PHASES:
        abort(404)
    questions = [u for u in analysis.questions if not phase or u.phase == phase]
    decisions = [u for u in analysis.decisions if not phase or u.phase == phase]
    # Inline as a data: URI (the page's CSP allows data: images): the chart follows the filters
    # without a route of its own, and as an image its SVG runs nothing.
    item_map = item_map_svg(analysis, scope, questions + decisions)
    return render_template("analysis/quiz.html", quiz=quiz, analysis=analysis, scope=scope, phase=phase,
                           phases=PHASES, questions=questions, decisions=decisions, plan=_regrade_plan(quiz),
                           item_map=b64encode(item_map.encode()).decode() if item_map else None,
                           thresholds={"min_answers": MIN_ANSWERS, "easy_facility": EASY_FACILITY,
                                       "easy_margin": EASY_MARGIN, "negative": NEGATIVE_DISCRIMINATION})


def _regrade_plan(quiz: Quiz) -> list:
    """What a regrade would change; only worked out when some attempt was graded with another version.

    Planning regrades every finished attempt in Python: with one count first, the page's
    cost does not grow with attempts while they are all graded with the current key.
    """
    graded_with = func.coalesce(Attempt.graded_version_id, Attempt.quiz_version_id)
    stale = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.status != AttemptStatus.IN_PROGRESS,
        graded_with != quiz.current_version_id))
    return plan_regrade(quiz) if stale else []


@bp.route("/quizzes/<slug>/phases.svg")
def chart(slug: str):
    response = Response(phase_chart_svg(analyse(current_user, _quiz(slug))), mimetype="image/svg+xml")
    # The chart styles itself inline and runs no script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/quizzes/<slug>/regrade", methods=["GET", "POST"])
def regrade(slug: str):
    """What a regrade would change, and the reason it asks for; the POST regrades."""
    quiz = _quiz(slug)
    version = quiz.current_version.content_hash[:12]
    form = RegradeForm()
    # A version published after the page was shown changes what a regrade does: show it again.
    outdated = form.is_submitted() and form.version.data != version
    if not outdated and form.validate_on_submit():
        changes = apply_regrade(current_user, quiz, form.reason.data)
        db.session.commit()
        if changes:
            flash(ngettext("Regraded with version %(version)s: %(num)d attempt changed score, %(flips)d of them "
                           "between pass and fail.",
                           "Regraded with version %(version)s: %(num)d attempts changed score, %(flips)d of them "
                           "between pass and fail.", len(changes), version=version,
                           flips=sum(c.outcome_changes for c in changes)), "success")
            return redirect(url_for("analysis.quiz", slug=slug))
    form.version.data = version
    return render_template("analysis/regrade_confirm.html", quiz=quiz, form=form, plan=_regrade_plan(quiz),
                           outdated=outdated)
