"""Account rules: sign-in sessions, user and organisation changes, set-password links.

Services take the acting user as an argument, flush, and never commit: the
view or CLI command commits once per request.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import session
from sqlalchemy import and_, bindparam, func, select, update

from lms.accounts.models import (
    LoginSession,
    Organisation,
    OrganisationKind,
    Role,
    SetPasswordToken,
    User,
)
from lms.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from lms.audit.services import record
from lms.clock import now
from lms.extensions import db


class AccountError(ValueError):
    """A request that breaks an account rule; the message is shown to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


# ---- sign-in ---------------------------------------------------------------------

def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None. Records success and failure."""
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else None, password)
    if not (ok and user is not None and user.active):
        # The reason stays in the log, never on the page (no account enumeration).
        reason = "unknown account" if user is None else ("inactive" if ok else "wrong password")
        record("auth.login_failed", actor_label=email[:254], reason=reason)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record("auth.login", actor=user)
    return user


def start_session(user: User, *, remember: bool = False, second_factor: str | None = None) -> str:
    """Create a server-side session and return the token that goes into the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(token_hash=_digest(token), user=user, second_factor=second_factor))
    db.session.flush()
    return token


def load_session_user(token: str) -> User | None:
    """The user behind a cookie token, if the session is live and the user is active.

    Flask-Login checks `is_active` only at login; this runs on every request, so
    deactivation and sign-out take effect on the very next one.
    """
    return db.session.scalar(_SESSION_USER, {"token_hash": _digest(token)})


# What makes a session live, for a statement joining LoginSession to its User with the
# cookie token's digest bound as `token_hash`. Shared with policy.attempt_owner_query, which
# signs a request in with the same rule.
LIVE_SESSION = and_(LoginSession.token_hash == bindparam("token_hash"), LoginSession.revoked_at.is_(None),
                    User.active)

# Built once, because it runs on every request and building a SELECT is a good part of its cost.
_SESSION_USER = select(User).join(LoginSession, LoginSession.user_id == User.id).where(LIVE_SESSION)


def cookie_token_digest() -> str | None:
    """The digest of the session token in this request's cookie, for LIVE_SESSION; None if signed out.

    Flask-Login keeps what User.get_id() returned, our session token, under "_user_id".
    """
    token = session.get("_user_id")
    return _digest(token) if isinstance(token, str) else None


def end_session(token: str, user: User) -> None:
    db.session.execute(
        update(LoginSession).where(LoginSession.token_hash == _digest(token)).values(revoked_at=now())
    )
    record("auth.logout", actor=user)


def end_all_sessions(user: User, *, except_token: str | None = None) -> None:
    query = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    if except_token:
        query = query.where(LoginSession.token_hash != _digest(except_token))
    db.session.execute(query.values(revoked_at=now()))


# ---- users -----------------------------------------------------------------------

@dataclass
class UserData:
    """What an admin may set on a user."""

    email: str
    name: str
    role: Role
    organisation_id: int
    scope_organisation_id: int | None = None


def _validate_user(data: UserData, existing: User | None) -> Organisation:
    email = normalise_email(data.email)
    clash = db.session.scalar(select(User).where(User.email == email))
    if clash is not None and clash is not existing:
        raise AccountError("Another user already has this e-mail address.", "email")
    org = db.session.get(Organisation, data.organisation_id)
    if org is None:
        raise AccountError("Choose an organisation.", "organisation_id")
    if data.scope_organisation_id is not None:
        if data.role is not Role.AUDITOR:
            raise AccountError("Only auditors have a scope.", "scope_organisation_id")
        if db.session.get(Organisation, data.scope_organisation_id) is None:
            raise AccountError("Choose an organisation for the scope.", "scope_organisation_id")
    return org


def create_user(actor: User | None, data: UserData) -> User:
    """Create an account without a password; the person sets it through a one-time link."""
    _validate_user(data, None)
    user = User(
        email=normalise_email(data.email),
        name=data.name.strip(),
        role=data.role,
        organisation_id=data.organisation_id,
        scope_organisation_id=data.scope_organisation_id if data.role is Role.AUDITOR else None,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    record("user.created", actor=actor, target=user, email=user.email, role=user.role.value,
           organisation_id=user.organisation_id, scope_organisation_id=user.scope_organisation_id)
    return user


def update_user(actor: User, user: User, data: UserData) -> dict[str, tuple]:
    """Apply an admin's edit; returns and audits what changed (a role change ends sessions)."""
    _validate_user(data, user)
    new = {
        "email": normalise_email(data.email),
        "name": data.name.strip(),
        "role": data.role,
        "organisation_id": data.organisation_id,
        "scope_organisation_id": data.scope_organisation_id if data.role is Role.AUDITOR else None,
    }
    changes = {k: (getattr(user, k), v) for k, v in new.items() if getattr(user, k) != v}
    if not changes:
        return {}
    if actor.id == user.id and "role" in changes:
        raise AccountError("You cannot change your own role.", "role")
    for key, (_, value) in changes.items():
        setattr(user, key, value)
    if {"role", "scope_organisation_id", "organisation_id"} & changes.keys():
        # A narrower role or scope must apply now, not at the next sign-in.
        end_all_sessions(user)
    printable = {k: [getattr(a, "value", a), getattr(b, "value", b)] for k, (a, b) in changes.items()}
    action = "user.role_changed" if "role" in changes or "scope_organisation_id" in changes else "user.updated"
    record(action, actor=actor, target=user, changes=printable)
    return changes


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate a user; records stay."""
    if actor.id == user.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if user.active == active:
        return
    user.active = active
    user.deactivated_at = None if active else now()
    if not active:
        end_all_sessions(user)
    record("user.activated" if active else "user.deactivated", actor=actor, target=user)


def search_users(query_text: str = "", role: Role | None = None, organisation_id: int | None = None,
                 include_inactive: bool = True):
    """A SELECT over users matching a name/e-mail search and filters (callers apply policy)."""
    query = select(User).order_by(func.lower(User.name), User.id)
    if query_text:
        like = f"%{query_text.strip().lower()}%"
        query = query.where(func.lower(User.name).like(like) | User.email.like(like))
    if role is not None:
        query = query.where(User.role == role)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if not include_inactive:
        query = query.where(User.active.is_(True))
    return query


# ---- set-password links ------------------------------------------------------------

def issue_password_link(actor: User | None, user: User, hours: int) -> str:
    """Create a one-time token (returned once, stored hashed) and retire older ones."""
    db.session.execute(
        update(SetPasswordToken)
        .where(SetPasswordToken.user_id == user.id, SetPasswordToken.used_at.is_(None))
        .values(used_at=now())
    )
    token = secrets.token_urlsafe(32)
    db.session.add(SetPasswordToken(
        token_hash=_digest(token), user=user, created_by_id=getattr(actor, "id", None),
        expires_at=now() + timedelta(hours=hours),
    ))
    record("user.password_link_issued", actor=actor, target=user)
    return token


def find_password_token(token: str) -> SetPasswordToken | None:
    """The unused, unexpired token row for an active user, or None."""
    row = db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.token_hash == _digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= now() or not row.user.active:
        return None
    return row


def redeem_password_token(row: SetPasswordToken, password: str) -> User:
    """Set the password, use up the token and end every existing session of the user."""
    user = row.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    row.used_at = now()
    end_all_sessions(user)
    record("user.password_set", actor=user, target=user)
    return user


def set_password(actor: User | None, user: User, password: str) -> None:
    """Set a password directly (CLI for the first admin); ends the user's sessions."""
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    record("user.password_set", actor=actor, target=user)


# ---- organisations -----------------------------------------------------------------

@dataclass
class OrganisationData:
    name: str
    kind: OrganisationKind
    country: str
    contract_reference: str = ""
    contact_email: str = ""


def save_organisation(actor: User | None, data: OrganisationData, org: Organisation | None = None) -> Organisation:
    """Create or edit an organisation; there is exactly one client company."""
    name = data.name.strip()
    clash = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if clash is not None and clash is not org:
        raise AccountError("An organisation with this name already exists.", "name")
    if data.kind is OrganisationKind.CLIENT:
        client = db.session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.CLIENT))
        if client is not None and client is not org:
            raise AccountError(f"{client.name} is already the client company; add partners instead.", "kind")
    new = {"name": name, "kind": data.kind, "country": data.country.strip().upper(),
           "contract_reference": data.contract_reference.strip(),
           "contact_email": normalise_email(data.contact_email),
           "mfa_required_roles": data.mfa_required_roles}
    if org is None:
        org = Organisation(**new)
        db.session.add(org)
        db.session.flush()
        record("organisation.created", actor=actor, target=org,
               **{k: getattr(v, "value", v) for k, v in new.items()})
        return org
    changes = {k: [getattr(getattr(org, k), "value", getattr(org, k)), getattr(v, "value", v)]
               for k, v in new.items() if getattr(org, k) != v}
    for key, value in new.items():
        setattr(org, key, value)
    if changes:
        record("organisation.updated", actor=actor, target=org, changes=changes)
    return org
    mfa_required_roles: str = ""  # comma-separated role values (lms.mfa.services.mfa_required)
