"""An uploaded roster file, kept as uploaded so that applying it uses exactly what was previewed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, now
from lms.extensions import db


class RosterUpload(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The file name as the browser sent it: shown, never used as a path.
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    # A full roster lists everyone: people of its organisations missing from it are leavers.
    full_roster: Mapped[bool] = mapped_column(Boolean, default=False)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The apply job, once started: an upload is applied at most once.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))

    uploaded_by: Mapped[User] = relationship()
