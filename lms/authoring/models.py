"""Drafts: the editable working copies that publishing turns into immutable versions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, now
from lms.extensions import db

KINDS = ("course", "quiz", "programme")


class Draft(db.Model):
    """One editable working copy of one content item (one per kind and slug).

    `files` maps paths relative to a content root ("courses/<slug>/course.yaml",
    "courses/<slug>/01-x.md", "quizzes/<slug>.yaml", "programmes/<slug>.yaml") to
    their text; images live in DraftImage. `revision` grows by one on every save,
    so a save based on an older revision is refused instead of overwriting.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(100))
    files: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    base_hash: Mapped[str | None] = mapped_column(String(64))  # the published version it started from
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    images: Mapped[list[DraftImage]] = relationship(back_populates="draft", cascade="all, delete-orphan",
                                                    order_by="DraftImage.path")

    __table_args__ = (UniqueConstraint("kind", "slug"),)


class DraftImage(db.Model):
    """A PNG or JPEG of a course draft, under a generated name ("courses/<slug>/img/<name>.png")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    draft: Mapped[Draft] = relationship(back_populates="images")

    __table_args__ = (UniqueConstraint("draft_id", "path"),)
