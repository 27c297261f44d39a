"""Programmes (content), assignments (who must do them by when), enrolments and awards.

An Enrolment is one agent's place in one programme: created when a programme
is assigned to them or to their organisation (including agents added later),
it carries their due date and points at their current award. Status is not
stored: it is computed for any date from these rows (see status.py).
An Award is never edited except to revoke it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
                        false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation, User
from lms.clock import UTCDateTime, now
from lms.extensions import db


class Programme(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_version.id", use_alter=True, name="fk_programme_current_version_id_programme_version"))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_version: Mapped[ProgrammeVersion | None] = relationship(foreign_keys=[current_version_id],
                                                                    post_update=True)

    @property
    def title(self) -> str:
        return self.current_version.title if self.current_version else self.slug


class ProgrammeVersion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set when a trainer published this version in the browser (lms/authoring/drafts.publish): then a
    # load from the files keeps it as current. NULL: it came from the content files.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    material_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    programme: Mapped[Programme] = relationship(foreign_keys=[programme_id])

    __table_args__ = (UniqueConstraint("programme_id", "content_hash"),)


class Assignment(db.Model):
    """A programme assigned to a whole organisation or to one agent, due on a date or N days after."""

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_days: Mapped[int | None] = mapped_column(Integer)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    programme: Mapped[Programme] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint("(organisation_id IS NULL) != (user_id IS NULL)", name="one_target"),
        CheckConstraint("(due_at IS NULL) != (due_days IS NULL)", name="one_due_rule"),
    )


class Enrolment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    # First activity (a lesson read or an attempt started) in the current cycle.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_award_id: Mapped[int | None] = mapped_column(
        ForeignKey("award.id", use_alter=True, name="fk_enrolment_current_award_id_award"))
    # A material change: awards issued before recert_after no longer count; due by recert_due_at.
    recert_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recert_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A copy of the current award's dates and code (the Award row stays the record). Status is
    # computed from the enrolment row alone, so the dashboard counts 10,000 agents without
    # joining the wide award table; services.refresh_snapshot() keeps the copy in step.
    award_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    award_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    award_window_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    award_grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    award_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    award_code: Mapped[str | None] = mapped_column(String(32))
    # When the agent next has to act (the expiry of a counting award, else the due date):
    # indexed, because the dashboard sorts and pages by it.
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    programme: Mapped[Programme] = relationship()
    current_award: Mapped[Award | None] = relationship(foreign_keys=[current_award_id], post_update=True)

    __table_args__ = (UniqueConstraint("user_id", "programme_id"),
                      Index("ix_enrolment_next_due_at", "next_due_at", "id"))


class Award(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    programme_version_id: Mapped[int] = mapped_column(ForeignKey("programme_version.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    window_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)  # recertification window
    grace_until: Mapped[datetime] = mapped_column(UTCDateTime)
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    # The content versions and attempts that earned it.
    evidence: Mapped[dict] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # A re-issue (a new code for the same achievement) names the award it replaced.
    reissued_from_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    programme: Mapped[Programme] = relationship()
    programme_version: Mapped[ProgrammeVersion] = relationship()


class Recertification(db.Model):
    """A trainer's decision that a material change to a course requires recertification by a date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    course_slug: Mapped[str] = mapped_column(String(100))
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    required_by: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
