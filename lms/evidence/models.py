"""Issued evidence files: rendered once, signed, stored with their SHA-256, never changed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.certification.models import Award
from lms.clock import UTCDateTime, now
from lms.extensions import db


class Certificate(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"), unique=True)
    # None once the holder's data was erased (the PDF carries their name); the SHA-256 and key id
    # stay, so a copy the person kept still verifies by upload.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(String(64))  # the signing key, so keys can rotate
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    award: Mapped[Award] = relationship()
