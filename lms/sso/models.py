"""An organisation's OpenID Connect connection, and the (issuer, sub) links of its people."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation, User
from lms.clock import UTCDateTime, now
from lms.extensions import db


class SsoConnection(db.Model):
    """How the people of one organisation sign in through their employer's identity provider.

    The client secret is needed in clear to call the token endpoint, so it cannot be hashed: it
    is stored encrypted (lms/sso/crypto.py) and never shown again after it is typed.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # One connection per organisation: a user's organisation decides which IdP vouches for them.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    issuer: Mapped[str] = mapped_column(String(300))  # discovery: <issuer>/.well-known/openid-configuration
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(300), default="openid email profile")
    email_claim: Mapped[str] = mapped_column(String(100), default="email")
    # Optional role mapping: the claim (e.g. "groups") and the values in it that make a trainer.
    role_claim: Mapped[str] = mapped_column(String(100), default="")
    trainer_values: Mapped[str] = mapped_column(Text, default="")  # one per line
    # E-mail domains (one per line, lower case) whose people the sign-in page sends to this IdP.
    domains: Mapped[str] = mapped_column(Text, default="")
    jit_provisioning: Mapped[bool] = mapped_column(Boolean, default=False)
    link_by_email: Mapped[bool] = mapped_column(Boolean, default=False)
    # The organisation's people may not sign in with a password (only through this IdP).
    passwords_forbidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The IdP's own second factor (amr with "mfa", or an acr listed here) satisfies the app's
    # MFA requirement; otherwise people who need a second factor pass the app's own after the IdP.
    idp_mfa_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_acr_values: Mapped[str] = mapped_column(String(300), default="")  # one per line
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    organisation: Mapped[Organisation] = relationship()

    def domain_list(self) -> list[str]:
        return split_lines(self.domains)

    def trainer_value_list(self) -> list[str]:
        return split_lines(self.trainer_values, lower=False)

    def mfa_acr_list(self) -> list[str]:
        return split_lines(self.mfa_acr_values, lower=False)


def split_lines(text: str, *, lower: bool = True) -> list[str]:
    """The values of a one-per-line (or comma-separated) setting, trimmed, empty ones dropped."""
    values = [v.strip() for v in (text or "").replace(",", "\n").splitlines()]
    return [v.lower() if lower else v for v in values if v]


class SsoIdentity(db.Model):
    """The IdP's subject for one of our users: once linked, the (issuer, sub) pair, never the
    e-mail, says who signs in (e-mails change and can be reassigned; sub does not)."""

    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_sso_identity_issuer_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connection.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    connection: Mapped[SsoConnection] = relationship()
    user: Mapped[User] = relationship()
