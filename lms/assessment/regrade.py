"""Regrading past attempts after a correction to a quiz's answer key.

Attempts keep their grade when a new version is published; a trainer asks for
a regrade, sees which pass/fail results would change, and applies it with a reason. Every
applied regrade is one audit event listing old and new results and the reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.accounts.models import User
from lms.assessment.models import Attempt, AttemptStatus
from lms.assessment.services import apply_grade, compute_grade
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.learning.models import Quiz


@dataclass(frozen=True)
class RegradeChange:
    attempt: Attempt
    old_percent: float
    new_percent: float
    old_passed: bool
    new_passed: bool

    @property
    def outcome_changes(self) -> bool:
        return self.old_passed != self.new_passed


def plan_regrade(quiz: Quiz) -> list[RegradeChange]:
    """What grading every finished attempt with the current key would change (nothing is written)."""
    version = quiz.current_version
    attempts = db.session.scalars(select(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.status != AttemptStatus.IN_PROGRESS).order_by(Attempt.id)).all()
    changes = []
    for attempt in attempts:
        result = compute_grade(attempt, version)
        if result.percent != attempt.percent or result.passed != attempt.passed:
            changes.append(RegradeChange(attempt, attempt.percent, result.percent, bool(attempt.passed),
                                         result.passed))
    return changes


def apply_regrade(actor: User | None, quiz: Quiz, reason: str) -> list[RegradeChange]:
    """Regrade with the current version's key, audit it with `reason`, and return what changed.

    Raises ValueError for a blank reason. When nothing would change, nothing is written, not
    even an event: a regrade that changed no grade is no fact an auditor needs.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("a regrade needs a reason")
    changes = plan_regrade(quiz)
    if not changes:
        return changes
    for change in changes:
        apply_grade(change.attempt, quiz.current_version)
        change.attempt.regraded_at = now()
    record("attempts.regraded", actor=actor, target=quiz, quiz=quiz.slug,
           version=quiz.current_version.content_hash[:12], reason=reason,
           changed=[{"attempt": c.attempt.id, "from": c.old_percent, "to": c.new_percent,
                     "passed": [c.old_passed, c.new_passed]} for c in changes])
    return changes
