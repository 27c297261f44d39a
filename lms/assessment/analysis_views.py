"""Trainer pages: item analysis per quiz with a chart, and regrading."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from lms.assessment.analysis import analyse, phase_chart_svg
from lms.assessment.models import Attempt, AttemptStatus
from lms.assessment.regrade import apply_regrade, plan_regrade
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
    return render_template("analysis/quiz.html", quiz=quiz, analysis=analyse(current_user, quiz),
                           plan=plan_regrade(quiz))


@bp.route("/quizzes/<slug>/phases.svg")
def chart(slug: str):
    response = Response(phase_chart_svg(analyse(current_user, _quiz(slug))), mimetype="image/svg+xml")
    # The chart styles itself inline and runs no script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/quizzes/<slug>/regrade", methods=["POST"])
def regrade(slug: str):
    quiz = _quiz(slug)
    changes = apply_regrade(current_user, quiz)
    db.session.commit()
    flips = sum(c.outcome_changes for c in changes)
    flash(f"Regraded with version {quiz.current_version.content_hash[:12]}: {len(changes)} attempt(s) changed score, "
          f"{flips} changed between pass and fail.", "success")
    return redirect(url_for("analysis.quiz", slug=slug))
