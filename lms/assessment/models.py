"""Attempts and their answers.

An attempt stores exactly what was drawn and shown (item ids and option
order) and the quiz version it came from, so review and regrading use the
same draw and the same content.
"""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime
from lms.columns import enum_column
from lms.extensions import db
from lms.learning.models import Quiz, QuizVersion


class AttemptStatus(str, enum.Enum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    EXPIRED = "expired"  # closed at the deadline with the answers saved before it

    @property
    def label(self) -> str:
        return {"in_progress": _("In progress"), "submitted": _("Submitted"), "expired": _("Closed at time limit")}[self.value]


class Attempt(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id"), index=True)
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_version.id"), index=True)
    status: Mapped[AttemptStatus] = mapped_column(
        enum_column(AttemptStatus, 20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What was drawn and how each item is shown: [{"item": id, "shown": {...}}, ...], where "shown"
    # is what the item's question type prepared (the option order, for instance; services.draw_items).
    draw: Mapped[list] = mapped_column(JSON)
    earned: Mapped[float | None] = mapped_column(Float)
    possible: Mapped[float | None] = mapped_column(Float)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column()
    phase_scores: Mapped[dict | None] = mapped_column(JSON)  # {"before": {"earned", "possible", "percent"}}
    # A critical reply in a call simulation (a simulated breach) failed it: certification never
    # counts such an attempt, whatever its percent (services.grade_responses).
    critical_failure: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The version whose answer key graded it: the shown version, or a later one after a regrade.
    graded_version_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_version.id"))
    regraded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the questions were shown in, for the whole attempt: the translation chosen when
    # it started (None: the source's text, in lms.content.translations.SOURCE_LANGUAGE).
    translation_id: Mapped[int | None] = mapped_column(ForeignKey("content_translation.id"))
    language: Mapped[str | None] = mapped_column(String(8))

    user: Mapped[User] = relationship()
    quiz: Mapped[Quiz] = relationship()
    quiz_version: Mapped[QuizVersion] = relationship(foreign_keys=[quiz_version_id])
    answers: Mapped[list[Answer]] = relationship(order_by="Answer.position", back_populates="attempt")

    __table_args__ = (
        # One attempt in progress per agent and quiz, enforced by the database.
        Index("uq_attempt_one_in_progress", "user_id", "quiz_id", unique=True,
              sqlite_where=text("status = 'in_progress'"), postgresql_where=text("status = 'in_progress'")),
        # A person's attempts at a quiz, whatever their state: the agent's home reads them joined
        # to the quizzes, where an index on quiz_id alone would read every agent's attempts.
        Index("ix_attempt_user_quiz", "user_id", "quiz_id"),
    )

    @property
    def finished(self) -> bool:
        return self.status is not AttemptStatus.IN_PROGRESS


class Answer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, in the order shown
    item_id: Mapped[str] = mapped_column(String(100))
    response: Mapped[dict | list | str | bool | None] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    earned: Mapped[float | None] = mapped_column(Float)
    possible: Mapped[float | None] = mapped_column(Float)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")

    __table_args__ = (UniqueConstraint("attempt_id", "position"),)
