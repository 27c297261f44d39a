"""Jobs and their output files.

A JobFile is written only in the transaction that marks its job succeeded, so a
file that can be downloaded always belongs to a finished job: nothing half-written
is ever offered.
"""
from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation, User
from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": _("Waiting to start"), "running": _("Running"), "succeeded": _("Ready"),
                "failed": _("Failed")}[self.value]


class Job(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The organisation the job's output is about: what the record rules check.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, 20),
        default=JobState.QUEUED, index=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # for people; the traceback goes to the log
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs started, retries included
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched when the job is queued and at every progress report: a queued or running job whose
    # heartbeat is old was lost (the process stopped) and is shown as interrupted.
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set when the retention job deleted the job's files (RETENTION_EXPORT_FILES_DAYS after it
    # finished): the row stays, and its page says the files expired instead of offering them.
    files_expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    files: Mapped[list[JobFile]] = relationship(order_by="JobFile.id", back_populates="job")

    def interrupted(self, stale_after: timedelta, at: datetime | None = None) -> bool:
        """Queued or running, but nothing heard of it for `stale_after`: its worker is gone."""
        return (self.state in (JobState.QUEUED, JobState.RUNNING)
                and self.heartbeat_at < (at or now()) - stale_after)

    @property
    def percent(self) -> int:
        if self.state is JobState.SUCCEEDED:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class JobFile(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (job_id, name) constraint serves lookups by job.
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)

    job: Mapped[Job] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("job_id", "name"),)
