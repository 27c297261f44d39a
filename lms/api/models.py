"""API keys and the per-minute tallies of their use.

A key's secret is shown once, when it is created or rotated; only its SHA-256 is stored. The
secret carries 256 random bits, so a plain hash is enough (a slow password hash would only cost
every API call time): nobody can search that space. The public prefix identifies the key in the
admin pages and the logs without revealing it.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation
from lms.clock import UTCDateTime, now
from lms.extensions import db

# Read-only scopes an integration may hold; every endpoint needs exactly one of them.
SCOPES = {  # each scope with what it grants, as the key form and the API page say it (lazy: in the reader's language)
    "clearance:read": _l("Clearance of agents for live calls, and agents by status"),
    "awards:read": _l("Awards (programme, dates, certificate codes)"),
    "jobs:read": _l("Evidence-pack export jobs"),
}


class ApiKey(db.Model):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # The public part of the token ("csa_<prefix>_<secret>"): unique, shown in lists.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    # NULL: every organisation (company-wide, like a company-wide auditor); else that one only.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated, from SCOPES
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ApiUsageTally(db.Model):
    """Calls of one key to one endpoint in one minute with one status: one upsert per call, one
    `api.used` audit event per tally once its minute is over (like lms/audit/probes.py)."""

    __tablename__ = "api_usage_tally"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    route: Mapped[str] = mapped_column(String(100))
    status: Mapped[int] = mapped_column(Integer)
    minute: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=1)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("api_key_id", "route", "status", "minute", name="uq_api_usage_tally_minute"),
                      Index("ix_api_usage_tally_pending", "recorded_at", "minute"))
