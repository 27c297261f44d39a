"""SSO rules: which connection an e-mail belongs to, whether a password may be used, and who an
IdP's answer signs in.

The IdP vouches only for its own organisation: a linked (issuer, sub) signs in its user only while
that user is in the connection's organisation, a new account is always created there, and claims
never choose or change anyone's organisation. Services flush and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from lms import signals
from lms.accounts import services as accounts
from lms.accounts.locale_defaults import LANGUAGE_NAMES
from lms.accounts.models import Role, User
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db
from lms.sso import crypto
from lms.sso.models import SsoConnection, SsoIdentity, split_lines

# What an IdP's claims may make someone: never admin or auditor, which only our admins grant.
MAPPABLE_ROLES = frozenset({Role.AGENT, Role.TRAINER})
# RFC 8176 methods that are a second factor, or a combination, on their own.
MFA_AMR = frozenset({"mfa", "otp", "hwk", "sms", "fido", "sc"})


class SsoError(ValueError):
    """A sign-in or a connection the rules refuse; the message is for the person reading it."""

    def __init__(self, message: str, reason: str = "", field: str | None = None, user_id: int | None = None):
        super().__init__(message)
        self.reason = reason or message
        self.field = field
        self.user_id = user_id  # the account the refused sign-in was about, for the audit event


# ---- connections -------------------------------------------------------------------

@dataclass
class ConnectionData:
    """What an admin sets on a connection. An empty client_secret keeps the stored one."""

    organisation_id: int
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    email_claim: str
    role_claim: str
    trainer_values: str
    domains: str
    jit_provisioning: bool
    link_by_email: bool
    passwords_forbidden: bool
    idp_mfa_accepted: bool
    mfa_acr_values: str
    enabled: bool


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def normalise_issuer(issuer: str) -> str:
    """The issuer as the IdP's discovery document must state it: https (http only for a loopback
    address, for development and tests), no query or fragment, no trailing slash."""
    issuer = issuer.strip().rstrip("/")
    parts = urlsplit(issuer)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SsoError(_("The issuer must be an https:// address."), field="issuer")
    if not parts.hostname or parts.query or parts.fragment:
        raise SsoError(_("The issuer is an address like https://login.example.com/tenant, "
                         "without ? or #."), field="issuer")
    return issuer


def save_connection(actor: User | None, data: ConnectionData, connection: SsoConnection | None = None) -> SsoConnection:
    """Create or change an organisation's connection; audit it, without the secret."""
    issuer = normalise_issuer(data.issuer)
    domains = sorted({d for d in split_lines(data.domains)})
    for domain in domains:
        if "." not in domain or "@" in domain or " " in domain:
            raise SsoError(_("“%(domain)s” is not an e-mail domain (for example atlascare.example).", domain=domain),
                           field="domains")
    others = db.session.scalars(select(SsoConnection).where(SsoConnection.id != (connection.id if connection else -1)))
    for other in others:
        if other.organisation_id == data.organisation_id:
            raise SsoError(_("This organisation already has a connection: change that one."), field="organisation_id")
        clash = set(domains) & set(other.domain_list())
        if clash:
            raise SsoError(_("%(domains)s already sends people to the sign-in of %(organisation)s.",
                             domains=", ".join(sorted(clash)), organisation=other.organisation.name), field="domains")
    scopes = " ".join(dict.fromkeys(["openid", *data.scopes.split()]))  # openid first, once
    if connection is None:
        if not data.client_secret:
            raise SsoError(_("Enter the client secret the IdP gave you."), field="client_secret")
        connection = SsoConnection(organisation_id=data.organisation_id)
        db.session.add(connection)
    elif connection.organisation_id != data.organisation_id:
        # Moving a connection would hand its linked people to another organisation's IdP.
        raise SsoError(_("A connection stays with its organisation; delete it and create another."),
                       field="organisation_id")
    if data.client_secret:
        connection.client_secret_encrypted = crypto.encrypt(data.client_secret)
    connection.issuer = issuer
    connection.client_id = data.client_id.strip()
    connection.scopes = scopes
    connection.email_claim = data.email_claim.strip() or "email"
    connection.role_claim = data.role_claim.strip()
    connection.trainer_values = "\n".join(split_lines(data.trainer_values, lower=False))
    connection.domains = "\n".join(domains)
    connection.jit_provisioning = data.jit_provisioning
    connection.link_by_email = data.link_by_email
    connection.passwords_forbidden = data.passwords_forbidden
    connection.idp_mfa_accepted = data.idp_mfa_accepted
    connection.mfa_acr_values = "\n".join(split_lines(data.mfa_acr_values, lower=False))
    connection.enabled = data.enabled
    db.session.flush()
    record("sso.connection_saved", actor=actor, target_type="sso_connection", target_id=connection.id,
           organisation_id=connection.organisation_id, issuer=issuer, client_id=connection.client_id,
           secret_changed=bool(data.client_secret), jit=data.jit_provisioning, link_by_email=data.link_by_email,
           passwords_forbidden=data.passwords_forbidden, domains=domains)
    return connection


def delete_connection(actor: User, connection: SsoConnection) -> None:
    """Remove a connection and its links; the accounts stay (with their passwords, if any)."""
    record("sso.connection_deleted", actor=actor, target_type="sso_connection", target_id=connection.id,
           organisation_id=connection.organisation_id, issuer=connection.issuer)
    db.session.execute(SsoIdentity.__table__.delete().where(SsoIdentity.connection_id == connection.id))
    db.session.delete(connection)
    db.session.flush()


# ---- home-realm discovery and passwords ----------------------------------------------

def connection_for_email(email: str) -> SsoConnection | None:
    """The enabled connection whose domains include this e-mail's, if any."""
    domain = _domain(email)
    if not domain:
        return None
    for connection in db.session.scalars(select(SsoConnection).where(SsoConnection.enabled.is_(True))):
        if domain in connection.domain_list():
            return connection
    return None


def password_refused_by(user: User | None, email: str) -> SsoConnection | None:
    """The connection whose organisation forbids passwords for this person: theirs, or the one
    their e-mail's domain belongs to (so the answer does not depend on whether they exist)."""
    by_domain = connection_for_email(email)
    if by_domain is not None and by_domain.passwords_forbidden:
        return by_domain
    if user is not None:
        own = db.session.scalar(select(SsoConnection).where(SsoConnection.organisation_id == user.organisation_id,
                                                            SsoConnection.enabled.is_(True)))
        if own is not None and own.passwords_forbidden:
            return own
    return None


# ---- signing in ------------------------------------------------------------------

def role_from_claims(connection: SsoConnection, claims: dict[str, Any]) -> Role | None:
    """The role the claims map to (trainer or agent), or None when the connection maps none."""
    if not connection.role_claim:
        return None
    value = claims.get(connection.role_claim)
    values = {str(v) for v in value} if isinstance(value, list) else ({str(value)} if value is not None else set())
    return Role.TRAINER if values & set(connection.trainer_value_list()) else Role.AGENT


def idp_second_factor(connection: SsoConnection, claims: dict[str, Any]) -> bool:
    """Whether the IdP says it checked a second factor, and the connection accepts its word."""
    if not connection.idp_mfa_accepted:
        return False
    amr = claims.get("amr")
    methods = {str(m) for m in amr} if isinstance(amr, list) else set()
    return bool(methods & MFA_AMR) or len(methods) >= 2 or claims.get("acr") in connection.mfa_acr_list()


def claimed_email(connection: SsoConnection, claims: dict[str, Any]) -> str:
    """The e-mail in the connection's claim, normalised; SsoError when missing or unverified."""
    value = claims.get(connection.email_claim)
    if not isinstance(value, str) or "@" not in value:
        raise SsoError(_("Your organisation's sign-in did not say your e-mail address (claim “%(claim)s”). "
                         "Ask your administrator to check the connection.", claim=connection.email_claim),
                       reason="no e-mail claim")
    if connection.email_claim == "email" and claims.get("email_verified") is False:
        raise SsoError(_("Your organisation's sign-in says your e-mail address is not verified."),
                       reason="e-mail not verified")
    return accounts.normalise_email(value)


def resolve_user(connection: SsoConnection, claims: dict[str, Any]) -> User:
    """The user an IdP's verified claims sign in, creating or linking them as the connection
    allows; SsoError when the rules refuse.

    1. A linked (issuer, sub) is that user, if still in the connection's organisation.
    2. Otherwise an existing account with the claimed e-mail is linked only when the connection
       allows linking by e-mail, the account is in the connection's organisation and the e-mail's
       domain is one of the connection's.
    3. Otherwise, with just-in-time provisioning on, a new account is created in the connection's
       organisation (the claims' role mapping, agent by default), for the connection's domains only.
    """
    issuer, subject = connection.issuer, str(claims.get("sub") or "")
    if not subject:
        raise _refuse(_("The sign-in answer named nobody."), "no sub")
    identity = db.session.scalar(select(SsoIdentity).where(SsoIdentity.issuer == issuer,
                                                           SsoIdentity.subject == subject))
    if identity is not None:
        user = identity.user
        if identity.connection_id != connection.id or user.organisation_id != connection.organisation_id:
            raise _refuse(_("Your account belongs to another organisation, so this sign-in cannot "
                            "be used for it. Ask your administrator."), "other organisation", user)
    else:
        email = claimed_email(connection, claims)
        user = db.session.scalar(select(User).where(User.email == email))
        if _domain(email) not in connection.domain_list():
            raise _refuse(_("Your organisation's sign-in is not set up for %(domain)s addresses. "
                            "Ask your administrator.", domain=_domain(email)), "domain not routed", user)
        if user is not None:
            if not connection.link_by_email:
                raise _refuse(_("An account with your e-mail address already exists but is not "
                                "linked to your organisation's sign-in. Ask your administrator to "
                                "link it."), "linking by e-mail not allowed", user)
            if user.organisation_id != connection.organisation_id:
                raise _refuse(_("Your account belongs to another organisation, so this sign-in cannot "
                                "be used for it. Ask your administrator."), "other organisation", user)
            record("sso.linked", actor=user, target=user, connection_id=connection.id, how="e-mail")
        elif connection.jit_provisioning:
            name = str(claims.get("name") or email.split("@")[0])[:200]
            user = accounts.create_user(None, accounts.UserData(
                email=email, name=name, role=role_from_claims(connection, claims) or Role.AGENT,
                organisation_id=connection.organisation_id, locale=(_claimed_language(claims), None)))
            record("sso.provisioned", actor=user, target=user, connection_id=connection.id)
        else:
            raise _refuse(_("There is no account for you here yet. Ask your administrator to add you."),
                          "no account and no provisioning")
        identity = SsoIdentity(connection_id=connection.id, user_id=user.id, issuer=issuer, subject=subject)
        db.session.add(identity)
    if not user.active:
        raise _refuse(_("Your account here is not active. Ask your administrator."), "inactive", user)
    _apply_role(connection, user, claims)
    identity.last_sign_in_at = now()
    db.session.flush()
    return user


def _claimed_language(claims: dict[str, Any]) -> str | None:
    """The id_token's `locale` ("pt-PT", "fr_FR", "ar") as a shipped language, else None (the
    organisation's default then applies). Only read when the account is created: afterwards the
    person's own choice on the account page wins."""
    language = str(claims.get("locale") or "").replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGE_NAMES else None


def _apply_role(connection: SsoConnection, user: User, claims: dict[str, Any]) -> None:
    """Follow the IdP's role mapping for agents and trainers; admins and auditors stay as they are."""
    role = role_from_claims(connection, claims)
    if role is None or role is user.role or user.role not in MAPPABLE_ROLES:
        return
    # Not accounts.update_user: that is an admin's edit (and refuses a change to one's own role).
    old = user.role
    user.role = role
    accounts.end_all_sessions(user)  # as for an admin's role change: a narrower role applies at once
    record("user.role_changed", actor=None, actor_label=f"sso:{connection.issuer}"[:200], target=user,
           subject_label=user.email, changes={"role": [old.value, role.value]}, connection_id=connection.id)
    signals.user_saved.send(None, user=user)


def _refuse(message: str, reason: str, user: User | None = None) -> SsoError:
    """The refusal; the view rolls the request back and records it (sso.login_refused)."""
    return SsoError(message, reason, user_id=user.id if user is not None else None)
