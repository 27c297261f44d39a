"""SCIM bearer tokens, and the groups an organisation's identity provider keeps here.

A token's secret is shown once; only its SHA-256 is stored. It carries 256 random bits, so a
plain hash is enough (a slow password hash would only cost every provisioning call time).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation, User
from lms.certification.models import Programme
from lms.clock import UTCDateTime, now
from lms.extensions import db

# What membership of a group does, as an admin configures it per group.
GROUP_ROLES = ("agent", "trainer")


class ScimToken(db.Model):
    """A bearer token that lets one organisation's identity provider provision its people."""

    __tablename__ = "scim_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The public part of the token ("scim_<prefix>_<secret>"): finds the row, shown in lists.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Always set: a forgotten integration must not keep write access to people for ever.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    def live(self, at: datetime) -> bool:
        return self.revoked_at is None and at < self.expires_at


class ScimGroup(db.Model):
    """A group of the identity provider's, within one organisation. An admin decides what being in
    it means: a role (agent or trainer) or a programme assigned to each member, or nothing."""

    __tablename__ = "scim_group"
    __table_args__ = (UniqueConstraint("organisation_id", "display_name", name="uq_scim_group_organisation_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(20))  # one of GROUP_ROLES
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    programme: Mapped[Programme | None] = relationship()
    members: Mapped[list[User]] = relationship(secondary="scim_group_member", order_by="User.id")


class ScimGroupMember(db.Model):
    __tablename__ = "scim_group_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("scim_group.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
