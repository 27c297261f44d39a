"""An award's Open Badges 3.0 credential: signed once when the award is issued, never edited.

Revocation is not written here: the published status list derives each bit from the award's
`revoked_at`, so the signed credential stays byte for byte what the holder downloaded.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.certification.models import Award
from lms.clock import UTCDateTime, now
from lms.extensions import db


class OpenBadge(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"), unique=True)
    # The credential's id without "urn:uuid:"; 122 random bits, so it also names the wallet link.
    credential_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # The compact JWS, exactly as signed. None once the holder's data was erased: it holds a salted
    # hash of their e-mail. Its SHA-256 stays, so a copy they kept still verifies.
    jwt: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(String(100))  # the issuer key's JWK thumbprint, so keys can rotate
    status_list: Mapped[int] = mapped_column(Integer)
    status_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    award: Mapped[Award] = relationship()

    __table_args__ = (UniqueConstraint("status_list", "status_index"),)
