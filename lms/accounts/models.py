"""Organisations (the client company and its outsourcing partners) and users."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.audit import people
from lms.clock import UTCDateTime, now
from lms.columns import enum_column
from lms.extensions import db



# StrEnum, so str(Role.TRAINER) is "trainer": WTForms selects an edit form's stored choice by
# str() of the object's value, and a plain (str, Enum) gives "Role.TRAINER", which matched no
# option, so the edit form showed the first choice and saving it demoted the person.
class Role(enum.StrEnum):
    AGENT = "agent"
    TRAINER = "trainer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # Delegated administration at an outsourcing partner: manages the agents of their own
    # organisation only (lms/policy.py: organisation_scope, can_manage_user).
    PARTNER_ADMIN = "partner_admin"

    @property
    def label(self) -> str:
        """The role's English name, as exports, audit labels and pseudonyms keep it."""
        return self.value.replace("_", " ").capitalize()

    @property
    def display(self) -> str:
        """The role's name in the reader's language, for pages and forms."""
        return {Role.AGENT: _("Agent"), Role.TRAINER: _("Trainer"), Role.AUDITOR: _("Auditor"),
                Role.ADMIN: _("Admin"), Role.PARTNER_ADMIN: _("Partner admin")}[self]


class OrganisationKind(enum.StrEnum):  # StrEnum: see Role
    CLIENT = "client"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        """The kind's English name, as exports keep it."""
        return "Client company" if self is OrganisationKind.CLIENT else "Outsourcing partner"

    @property
    def display(self) -> str:
        """The kind's name in the reader's language, for pages and forms."""
        return _("Client company") if self is OrganisationKind.CLIENT else _("Outsourcing partner")


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind, 20)
    )
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    contract_reference: Mapped[str] = mapped_column(String(100), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    # Roles (comma-separated values) whose people here must use a second factor, on top of
    # MFA_REQUIRED_ROLES (lms.mfa.services.mfa_required).
    mfa_required_roles: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # xAPI statements (lms/xapi) name this organisation's people by e-mail (mbox) instead of a
    # pseudonymous account: only where the organisation asked for it, as its LRS must match people.
    xapi_identify_by_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Defaults for its people who have not chosen (lms.i18n): a UI language code and an IANA zone.
    language: Mapped[str | None] = mapped_column(String(10))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"


class User(UserMixin, db.Model):
    # An employee id names one person within their organisation (its HR number); NULLs repeat freely.
    __table_args__ = (UniqueConstraint("organisation_id", "employee_id", name="uq_user_organisation_employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, 20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Only for auditors: None means company-wide, otherwise the one organisation they may see.
    scope_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    employee_id: Mapped[str | None] = mapped_column(String(50))
    # Free text rather than a table: teams are renamed and split often, and team leaders only
    # need to filter and group by the name; the dashboard offers the names in use.
    team: Mapped[str | None] = mapped_column(String(100), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person dismissed the privacy notice shown after their first sign-in (Arts 13/14):
    # until then every page offers it (templates/base.html, lms/privacy/notice_views.py).
    privacy_notice_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person's own choices; None means the organisation's default (lms.i18n).
    language: Mapped[str | None] = mapped_column(String(10))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Art. 17: set when the person's data was erased; name and e-mail then hold their pseudonym
    # (lms/privacy/erasure.py) and their training evidence is kept under it.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Arts 18 and 21: data kept but not used (no reminders, out of analytics) while set.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    scope_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[scope_organisation_id]
    )

    # Set on the instance for the current request: the server-side session token
    # (see LoginSession). Flask-Login stores whatever get_id() returns in the cookie.
    session_token = None  # not a column: no annotation on purpose

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("start_session() must run before login_user()")
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class ProgrammeAvailability(db.Model):
    """A programme the client company has made available to a partner organisation: its partner
    admins may assign it to their agents. Admins and trainers assign any programme anyway."""

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class LoginSession(db.Model):
    """One signed-in browser. The cookie holds a random token; we keep only its SHA-256.

    Keeping sessions server-side is what lets sign-out, deactivation and a
    password change end a session for good, remember-me cookie included.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # The digest of the cookie's token. With remember-me the same token is the remember
    # cookie's, and it is replaced (rotated) each time that cookie revives the session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the second step of sign-in was passed ("totp", "passkey", "recovery"), or None.
    second_factor: Mapped[str | None] = mapped_column(String(20))
    # Expiry lives here, not in the cookie: the session is live while now is before both.
    # The idle expiry slides forward as the person uses the app (services.touch_session).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idle_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


people.register(User)  # the audit log names people by it (lms/audit/people.py)


class TokenKind(str, enum.Enum):
    SET = "set"  # an admin issued it (new account, or a new link on request)
    RESET = "reset"  # the person asked for it by e-mail ("Forgot your password?")


class SetPasswordToken(db.Model):
    """A one-time link to set a password: issued by an admin, or e-mailed on a reset request.

    The token travels in the link once: its first GET marks the row opened and moves on to
    a token-free address, with the row's id in the (signed, server-checked) Flask session.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[TokenKind] = mapped_column(
        enum_column(TokenKind, 10),
        default=TokenKind.SET)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the link was first followed; the form then works for a short while from then on.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
