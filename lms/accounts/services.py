"""Account rules: sign-in sessions, user and organisation changes, set-password links.

Services take the acting user as an argument, flush, and never commit: the
view or CLI command commits once per request.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import Connection, Engine, and_, bindparam, func, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from lms import signals
from lms.accounts.models import (
    LoginSession,
    Organisation,
    OrganisationKind,
    ProgrammeAvailability,
    Role,
    SetPasswordToken,
    TokenKind,
    User,
)
from lms.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from lms.audit.services import record
from lms.clock import UTCDateTime, now
from lms.driver_statements import DriverStatement, as_driver_time
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


# What a failed sign-in records when the typed text is not an e-mail address: it may be a
# password typed into the wrong box, so none of it goes into the audit log.
NOT_AN_EMAIL = "(not an e-mail address)"


def identifier_for_log(typed: str) -> str:
    """The normalised address when `typed` is a syntactically valid e-mail, otherwise NOT_AN_EMAIL."""
    try:
        return validate_email(typed.strip(), check_deliverability=False).normalized.lower()[:254]
    except EmailNotValidError:
        return NOT_AN_EMAIL


# ---- sign-in ---------------------------------------------------------------------

def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None. Records success and failure."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if not (ok and user is not None and user.active):
        # The reason stays in the log, never on the page (no account enumeration).
        reason = "unknown account" if user is None else ("inactive" if ok else "wrong password")
        record("auth.login_failed", actor_label=identifier_for_log(email), reason=reason)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record("auth.login", actor=user)
    return user


STAFF_ROLES = frozenset({Role.TRAINER, Role.ADMIN, Role.AUDITOR, Role.PARTNER_ADMIN})
# The idle expiry slides forward at most this often, so that using the app writes to
# login_session about once a minute rather than on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def idle_window(role: Role | str) -> timedelta:
    """How long a session of this role lives without a request (SESSION_IDLE_MINUTES_*)."""
    config = current_app.config
    minutes = config["SESSION_IDLE_MINUTES_STAFF"] if Role(role) in STAFF_ROLES else config["SESSION_IDLE_MINUTES_AGENT"]
    return timedelta(minutes=minutes)


def session_lifetime(remember: bool) -> timedelta:
    """A session's absolute lifetime: SESSION_REMEMBER_DAYS with remember-me, else SESSION_LIFETIME_HOURS."""
    config = current_app.config
    return timedelta(days=config["SESSION_REMEMBER_DAYS"]) if remember \
        else timedelta(hours=config["SESSION_LIFETIME_HOURS"])


def start_session(user: User, *, remember: bool = False, second_factor: str | None = None,
                  user_agent: str = "") -> str:
    """Create a server-side session and return the token that goes into the cookie."""
    token = secrets.token_urlsafe(32)
    moment = now()
    db.session.add(LoginSession(
        token_hash=_digest(token), user=user, second_factor=second_factor, remember=remember,
        user_agent=user_agent[:300], created_at=moment, last_seen_at=moment,
        idle_expires_at=moment + idle_window(user.role), expires_at=moment + session_lifetime(remember)))
    db.session.flush()
    return token


def load_session_user(token: str) -> User | None:
    """The user behind a cookie token, if the session is live and the user is active.

    Flask-Login checks `is_active` only at login; this runs on every request, so
    deactivation, sign-out and expiry take effect on the very next one. When the session
    was last seen more than TOUCH_INTERVAL ago, its idle expiry slides forward.

    It runs on every signed-in request, so it reads on the driver's cursor of the request's
    connection (see _SessionUserQuery) and puts the User into the session as the ORM would
    have loaded it: one statement, without the ORM's cost of running and loading it.
    """
    session = db.session()
    connection = session.connection()
    query = _SESSION_USER_QUERIES.get(connection.dialect.name) or _SessionUserQuery.build(connection.dialect)
    rows = query.statement.rows(connection, query.parameters(_digest(token)))
    if not rows:
        return None
    row = rows[0]
    user = query.user(session, row)
    if row.session_due:
        with autocommit_engine().connect() as autocommit:
            touch_session(autocommit, row.session_id, user.role)
    return user


# What makes a session live, for a statement joining LoginSession to its User, run with
# live_session_params: not signed out, inside both expiries, and the user active. Shared
# with policy.attempt_owner_query, which signs a request in with the same rule.
_NOW = bindparam("now", type_=UTCDateTime())
LIVE_SESSION = and_(LoginSession.token_hash == bindparam("token_hash"), LoginSession.revoked_at.is_(None),
                    LoginSession.idle_expires_at > _NOW, LoginSession.expires_at > _NOW, User.active)

# The session's id and whether its idle expiry is due to slide (touch_session), for the same statements.
SESSION_TOUCH_COLUMNS = (
    LoginSession.id.label("session_id"),
    (LoginSession.last_seen_at < bindparam("touch_before", type_=UTCDateTime())).label("session_due"),
)


@dataclass(frozen=True)
class _SessionUserQuery:
    """load_session_user's statement for one dialect: every column of User (labelled with its
    attribute's key) and SESSION_TOUCH_COLUMNS, for a live session; and the column types'
    processors, so that parameters go in and values come out exactly as through the ORM."""

    statement: DriverStatement
    keys: tuple[str, ...]  # User's attribute keys, in the statement's order
    results: tuple[Any, ...]  # each one's result processor, or None
    time_param: Any  # UTCDateTime's bind processor (aware UTC in, what the driver takes out)

    @classmethod
    def build(cls, dialect) -> _SessionUserQuery:
        # Built on first use, when every mapper is configured; then once per dialect.
        mapper = User.__mapper__
        attributes = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs]
        statement = DriverStatement(
            select(*(column.label(key) for key, column in attributes), *SESSION_TOUCH_COLUMNS)
            .join(LoginSession, LoginSession.user_id == User.id).where(LIVE_SESSION))
        query = cls(statement, tuple(key for key, _ in attributes),
                    tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                          for _, column in attributes),
                    UTCDateTime().dialect_impl(dialect).bind_processor(dialect))
        _SESSION_USER_QUERIES[dialect.name] = query
        return query

    def parameters(self, token_hash: str) -> dict[str, Any]:
        values = live_session_params(token_hash)
        values["now"], values["touch_before"] = self.time_param(values["now"]), self.time_param(values["touch_before"])
        return values

    def user(self, session, row) -> User:
        """The row's User, persistent in `session`: the one already there (as a query would
        return it), or one made from the row as the ORM's loading makes it."""
        existing = session.identity_map.get(identity_key(User, (row.id,)))
        if existing is not None:
            return existing
        user = User.__mapper__.class_manager.new_instance()
        state = user.__dict__
        for key, value, process in zip(self.keys, row, self.results):
            state[key] = process(value) if process is not None else value
        make_transient_to_detached(user)  # as if loaded: no history, the identity set
        session.add(user)
        return user


_SESSION_USER_QUERIES: dict[str, _SessionUserQuery] = {}


def live_session_params(token_hash: str | None, *, for_driver: bool = False) -> dict[str, Any]:
    """The values LIVE_SESSION and SESSION_TOUCH_COLUMNS take, as of now.

    `for_driver`: times as the database driver takes them (naive UTC), for DriverStatement.
    """
    moment = now()
    values: dict[str, Any] = {"token_hash": token_hash, "now": moment, "touch_before": moment - TOUCH_INTERVAL}
    if for_driver:
        values["now"], values["touch_before"] = as_driver_time(values["now"]), as_driver_time(values["touch_before"])
    return values


# One conditional UPDATE, by the session's id: it writes only when the session was last seen
# more than TOUCH_INTERVAL ago and is still live (a parallel request may have slid it already).
_TOUCH = DriverStatement(
    update(LoginSession)
    .where(LoginSession.id == bindparam("session_id"), LoginSession.last_seen_at < bindparam("touch_before"),
           LoginSession.revoked_at.is_(None), LoginSession.idle_expires_at > bindparam("now"))
    .values(last_seen_at=bindparam("seen_at"), idle_expires_at=bindparam("idle_until"))
)


def touch_session(connection: Connection, session_id: int, role: Role | str) -> None:
    """Slide a session's idle expiry forward from now (the caller found it due).

    Runs on the connection given, straight on the driver: the answer autosave calls it on
    its autocommit connection, so keeping an agent signed in while they answer costs one
    UPDATE a minute at most.
    """
    moment = now()
    _TOUCH.rowcount(connection, {
        "session_id": session_id, "touch_before": as_driver_time(moment - TOUCH_INTERVAL), "now": as_driver_time(moment),
        "seen_at": as_driver_time(moment), "idle_until": as_driver_time(moment + idle_window(role))})


def autocommit_engine() -> Engine:
    """The app's engine (and pool), handing out connections in autocommit mode.

    For the statements that stand alone outside the request's transaction: an answer
    saved, a session's idle expiry slid forward.
    """
    engine = current_app.extensions.get("lms.autocommit_engine")
    if engine is None:  # shares the app engine's pool; built once per app
        engine = current_app.extensions["lms.autocommit_engine"] = db.engine.execution_options(
            isolation_level="AUTOCOMMIT")
    return engine


def rotate_remember_token(token: str) -> tuple[str, timedelta] | None:
    """Replace the token of a session revived by its remember-me cookie; the old one stops working.

    Returns the new token and how long the session has left (for the new cookie's
    lifetime), or None when the session is not a remember-me one (it cannot be revived).
    """
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _digest(token)))
    if row is None or not row.remember:
        return None
    new_token = secrets.token_urlsafe(32)
    row.token_hash = _digest(new_token)
    record("auth.session_revived", actor=row.user, session_id=row.id)
    return new_token, row.expires_at - now()


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


def end_all_sessions(user: User, *, except_token: str | None = None) -> int:
    """Revoke the user's sessions (remember-me cookies die with them) but `except_token`'s; how many."""
    query = update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    if except_token:
        query = query.where(LoginSession.token_hash != _digest(except_token))
    return db.session.execute(query.values(revoked_at=now())).rowcount


# ---- users -----------------------------------------------------------------------

@dataclass
class UserData:
    """What an admin may set on a user."""

    email: str
    name: str
    role: Role
    organisation_id: int
    scope_organisation_id: int | None = None
    employee_id: str | None = None
    team: str | None = None
    # (language, time zone), either None for "the organisation's"; None leaves both as they are
    # (SCIM and SSO do not manage them).
    locale: tuple[str | None, str | None] | None = None


def _blank_to_none(value: str | None) -> str | None:
    return (value or "").strip() or None


def _validate_user(actor: User | None, data: UserData, existing: User | None) -> Organisation:
    org = db.session.get(Organisation, data.organisation_id)
    _check_person(actor, data, org)
    clash = db.session.scalar(select(User).where(User.email == normalise_email(data.email)))
    if clash is not None and clash is not existing:
        raise AccountError(_("Another user already has this e-mail address."), "email")
    employee_id = _blank_to_none(data.employee_id)
    if employee_id is not None:
        taken = db.session.scalar(select(User).where(User.organisation_id == org.id, User.employee_id == employee_id))
        if taken is not None and taken is not existing:
            raise AccountError(_("Someone else at %(organisation)s already has employee id %(id)s.",
                                     organisation=org.name, id=employee_id), "employee_id")
    if data.scope_organisation_id is not None and db.session.get(Organisation, data.scope_organisation_id) is None:
        raise AccountError(_("Choose an organisation for the scope."), "scope_organisation_id")
    return org


def _check_person(actor: User | None, data: UserData, org: Organisation | None) -> None:
    """The rules of _validate_user that need no query beyond the organisation."""
    if actor is not None and actor.role is Role.PARTNER_ADMIN and (
            data.role is not Role.AGENT or data.organisation_id != actor.organisation_id):
        # The views never offer anything else; a forged form must not widen a partner admin's reach.
        raise AccountError(_("Partner admins add and edit agents of their own organisation only."))
    if org is None:
        raise AccountError(_("Choose an organisation."), "organisation_id")
    if data.role is Role.PARTNER_ADMIN and org.kind is not OrganisationKind.PARTNER:
        raise AccountError(_("A partner admin belongs to an outsourcing partner: choose one."), "organisation_id")
    if data.scope_organisation_id is not None and data.role is not Role.AUDITOR:
        raise AccountError(_("Only auditors have a scope."), "scope_organisation_id")


def _validate_users(actor: User | None, people: Sequence[UserData]) -> None:
    """_validate_user for new people at once: the same errors, from three queries whatever their
    number, and clashes within the batch count as clashes."""
    organisations = {org.id: org for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(
        {d.organisation_id for d in people} | {d.scope_organisation_id for d in people if d.scope_organisation_id})))}
    emails = [normalise_email(d.email) for d in people]
    employee_ids = [(d.organisation_id, _blank_to_none(d.employee_id)) for d in people]
    taken_emails = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    wanted = {employee_id for _, employee_id in employee_ids if employee_id is not None}
    taken_ids = set(db.session.execute(select(User.organisation_id, User.employee_id)
                                       .where(User.employee_id.in_(wanted))).tuples()) if wanted else set()
    for data, email, (org_id, employee_id) in zip(people, emails, employee_ids):
        org = organisations.get(data.organisation_id)
        _check_person(actor, data, org)
        if email in taken_emails:
            raise AccountError(_("Another user already has this e-mail address."), "email")
        taken_emails.add(email)
        if employee_id is not None:
            if (org_id, employee_id) in taken_ids:
                raise AccountError(_("Someone else at %(organisation)s already has employee id %(id)s.",
                                     organisation=org.name, id=employee_id), "employee_id")
            taken_ids.add((org_id, employee_id))
        if data.scope_organisation_id is not None and data.scope_organisation_id not in organisations:
            raise AccountError(_("Choose an organisation for the scope."), "scope_organisation_id")


def create_user(actor: User | None, data: UserData) -> User:
    """Create an account without a password; the person sets it through a one-time link."""
    _validate_user(actor, data, None)
    user = _new_user(data)
    db.session.add(user)
    db.session.flush()
    _record_created(actor, user)
    signals.user_saved.send(actor, user=user)
    return user


def create_users(actor: User | None, people: Sequence[UserData]) -> list[User]:
    """Create many accounts at once (a roster import's batch): each gets what create_user gives one
    person (the same checks, row, audit event and enrolment), in a fixed number of queries per batch
    instead of about a dozen per person (bench/roster_import.py)."""
    _validate_users(actor, people)
    users = [_new_user(data) for data in people]
    db.session.add_all(users)
    db.session.flush()  # one INSERT .. RETURNING for the lot
    for user in users:
        _record_created(actor, user)
    signals.users_saved.send(actor, users=users)
    return users


def _new_user(data: UserData) -> User:
    return User(
        email=normalise_email(data.email),
        name=data.name.strip(),
        role=data.role,
        organisation_id=data.organisation_id,
        scope_organisation_id=data.scope_organisation_id if data.role is Role.AUDITOR else None,
        employee_id=_blank_to_none(data.employee_id),
        team=_blank_to_none(data.team),
        language=data.locale[0] if data.locale else None,
        time_zone=data.locale[1] if data.locale else None,
        active=True,
    )


def _record_created(actor: User | None, user: User) -> None:
    # The e-mail goes with the event's personal fields (erasable), not into its hashed data.
    record("user.created", actor=actor, target=user, subject_label=user.email, role=user.role.value,
           organisation_id=user.organisation_id, scope_organisation_id=user.scope_organisation_id)


_PERSONAL_FIELDS = frozenset({"email", "name", "employee_id"})  # kept out of the audit log's hashed data


def update_user(actor: User | None, user: User, data: UserData) -> dict[str, tuple]:
    """Apply an admin's edit; returns and audits what changed (a role change ends sessions)."""
    _validate_user(actor, data, user)
    new = {
        "email": normalise_email(data.email),
        "name": data.name.strip(),
        "role": data.role,
        "organisation_id": data.organisation_id,
        "scope_organisation_id": data.scope_organisation_id if data.role is Role.AUDITOR else None,
        "employee_id": _blank_to_none(data.employee_id),
        "team": _blank_to_none(data.team),
    }
    if data.locale is not None:
        new["language"], new["time_zone"] = data.locale
    changes = {k: (getattr(user, k), v) for k, v in new.items() if getattr(user, k) != v}
    if not changes:
        return {}
    if actor is not None and actor.id == user.id and "role" in changes:
        raise AccountError(_("You cannot change your own role."), "role")
    for key, (_, value) in changes.items():
        setattr(user, key, value)
    if {"role", "scope_organisation_id", "organisation_id"} & changes.keys():
        # A narrower role or scope must apply now, not at the next sign-in.
        end_all_sessions(user)
    # Old and new e-mail and name are personal: the hashed data says only that they changed,
    # and the e-mail is kept with the event's (erasable) personal fields.
    printable = {k: [getattr(a, "value", a), getattr(b, "value", b)] for k, (a, b) in changes.items()
                 if k not in _PERSONAL_FIELDS}
    personal = sorted(_PERSONAL_FIELDS & changes.keys())
    action = "user.role_changed" if "role" in changes or "scope_organisation_id" in changes else "user.updated"
    record(action, actor=actor, target=user, subject_label=user.email, changes=printable,
           **({"personal_fields_changed": personal} if personal else {}))
    signals.user_saved.send(actor, user=user)
    return changes


def set_own_locale(user: User, language: str | None, time_zone: str | None) -> bool:
    """A person's own language and time zone (None: their organisation's); audited when changed.

    The forms check both values (lms.accounts.forms); returns whether anything changed.
    """
    changes = {k: [getattr(user, k), v] for k, v in (("language", language), ("time_zone", time_zone))
               if getattr(user, k) != v}
    if not changes:
        return False
    user.language, user.time_zone = language, time_zone
    record("account.locale_changed", actor=user, target=user, changes=changes)
    return True


def set_active(actor: User | None, user: User, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate a user; records stay.

    `actor` is None when the organisation's identity provider asks, through SCIM (lms/scim)."""
    if actor is not None and actor.id == user.id and not active:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    user.deactivated_at = None if active else now()
    if not active:
        end_all_sessions(user)
    record("user.activated" if active else "user.deactivated", actor=actor, target=user)
    signals.user_saved.send(actor, user=user)


def search_users(query_text: str = "", role: Role | None = None, organisation_id: int | None = None,
                 include_inactive: bool = True, team: str | None = None):
    """A SELECT over users matching a name/e-mail search and filters (callers apply policy)."""
    query = select(User).order_by(func.lower(User.name), User.id)
    if query_text:
        # autoescape: a typed "_" or "%" is a character to find, not a wildcard.
        words = query_text.strip().lower()
        query = query.where(func.lower(User.name).contains(words, autoescape=True)
                            | User.email.contains(words, autoescape=True)
                            | (User.employee_id == query_text.strip()))
    if role is not None:
        query = query.where(User.role == role)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if team is not None:
        query = query.where(User.team == team)
    if not include_inactive:
        query = query.where(User.active.is_(True))
    return query


# ---- set-password and reset links --------------------------------------------------

def issue_password_link(actor: User | None, user: User, hours: int) -> str:
    """Create a one-time token (returned once, stored hashed) and retire older ones."""
    token = _issue_token(user, TokenKind.SET, timedelta(hours=hours), created_by=actor)
    record("user.password_link_issued", actor=actor, target=user)
    return token


def _issue_token(user: User, kind: TokenKind, life: timedelta, created_by: User | None = None) -> str:
    # One live link per person: a new one retires the others, whoever asked for them.
    db.session.execute(
        update(SetPasswordToken)
        .where(SetPasswordToken.user_id == user.id, SetPasswordToken.used_at.is_(None))
        .values(used_at=now())
    )
    token = secrets.token_urlsafe(32)
    db.session.add(SetPasswordToken(
        token_hash=_digest(token), user=user, kind=kind, created_by_id=getattr(created_by, "id", None),
        expires_at=now() + life,
    ))
    return token


def open_password_token(token: str, kind: TokenKind) -> SetPasswordToken | None:
    """Trade a link's token for its row: the first opening only, of an unused, unexpired link
    for an active user. Marks it opened, so the token in the link (and in any log that kept
    it) is worth nothing from now on; the caller keeps the row's id in the session."""
    row = db.session.scalar(select(SetPasswordToken).where(SetPasswordToken.token_hash == _digest(token),
                                                           SetPasswordToken.kind == kind))
    if row is None or row.opened_at is not None or not _usable(row):
        return None
    row.opened_at = now()
    return row


def opened_password_token(token_id: Any) -> SetPasswordToken | None:
    """The row of a link this browser opened, while its form is open (SET_PASSWORD_FORM_MINUTES)."""
    row = db.session.get(SetPasswordToken, token_id) if isinstance(token_id, int) else None
    if row is None or row.opened_at is None or not _usable(row):
        return None
    if now() >= row.opened_at + timedelta(minutes=current_app.config["SET_PASSWORD_FORM_MINUTES"]):
        return None
    return row


def _usable(row: SetPasswordToken) -> bool:
    return row.used_at is None and row.expires_at > now() and row.user.active


def redeem_password_token(row: SetPasswordToken, password: str) -> User:
    """Set the password, use up the token and end every existing session of the user."""
    user = row.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    row.used_at = now()
    end_all_sessions(user)
    record("user.password_reset" if row.kind is TokenKind.RESET else "user.password_set", actor=user, target=user)
    return user


def request_password_reset(email: str, minutes: int) -> tuple[User, str] | None:
    """A reset token for the active account with this e-mail (to be e-mailed), or None.

    The caller answers the same either way, so that the page tells nobody whether an
    address has an account; the audit log keeps what happened.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active:
        record("auth.password_reset_requested", actor_label=identifier_for_log(email),
               outcome="unknown account" if user is None else "inactive")
        return None
    token = _issue_token(user, TokenKind.RESET, timedelta(minutes=minutes))
    record("auth.password_reset_requested", actor=user, outcome="e-mailed")
    return user, token


def set_password(actor: User | None, user: User, password: str) -> None:
    """Set a password directly (CLI for the first admin); ends the user's sessions."""
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    record("user.password_set", actor=actor, target=user)


# ---- the person's own account --------------------------------------------------------

def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """Change one's own password: the current one is required, and every other session ends."""
    if not verify_password(user.password_hash, current_password):
        record("auth.password_change_failed", actor=user, reason="wrong current password")
        raise AccountError(_("That is not your current password."), "current_password")
    problem = password_problem(new_password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = hash_password(new_password)
    ended = end_all_sessions(user, except_token=user.session_token)
    record("auth.password_changed", actor=user, target=user, sessions_ended=ended)


@dataclass(frozen=True)
class ActiveSession:
    """One live session as its owner sees it on the security page."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    device: str
    remember: bool
    current: bool


def active_sessions(user: User) -> list[ActiveSession]:
    """The user's live sessions, the most recently used first; `current` marks this browser's."""
    moment = now()
    rows = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None),
               LoginSession.idle_expires_at > moment, LoginSession.expires_at > moment)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()))
    mine = _digest(user.session_token) if user.session_token else None
    return [ActiveSession(row.id, row.created_at, row.last_seen_at, describe_user_agent(row.user_agent),
                          row.remember, row.token_hash == mine) for row in rows]


def end_own_session(user: User, session_id: int) -> bool:
    """Sign one of one's own other sessions out; False when there is no such live session."""
    ended = db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None),
               LoginSession.token_hash != _digest(user.session_token))
        .values(revoked_at=now())).rowcount
    if ended:
        record("auth.session_ended", actor=user, target=user, session_id=session_id)
    return bool(ended)


def end_other_sessions(user: User) -> int:
    """"Sign out everywhere else": every session of the user but this browser's ends."""
    ended = end_all_sessions(user, except_token=user.session_token)
    record("auth.sessions_ended_elsewhere", actor=user, target=user, sessions_ended=ended)
    return ended


# Tried in order: the first name found in a User-Agent header names the browser or system.
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"),
             ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str) -> str:
    """A short, readable name for a browser, e.g. "Firefox on Windows" (or "Unknown browser")."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


# ---- organisations -----------------------------------------------------------------

@dataclass
class OrganisationData:
    name: str
    kind: OrganisationKind
    country: str
    contract_reference: str = ""
    contact_email: str = ""
    mfa_required_roles: str = ""  # comma-separated role values (lms.mfa.services.mfa_required)
    xapi_identify_by_email: bool = False  # xAPI actors by e-mail instead of a pseudonym (lms/xapi)
    # Defaults for its people who have not chosen (lms.i18n); None leaves both as they are.
    locale: tuple[str | None, str | None] | None = None


def available_programme_ids(org: Organisation) -> list[int]:
    return list(db.session.scalars(select(ProgrammeAvailability.programme_id)
                                   .where(ProgrammeAvailability.organisation_id == org.id)))


def set_available_programmes(actor: User | None, org: Organisation, programme_ids: list[int]) -> None:
    """Which programmes a partner's partner admins may assign (none for the client company); audited."""
    wanted = set(programme_ids) if org.kind is OrganisationKind.PARTNER else set()
    current = set(available_programme_ids(org))
    if wanted == current:
        return
    for programme_id in current - wanted:
        db.session.delete(db.session.get(ProgrammeAvailability, (org.id, programme_id)))
    for programme_id in wanted - current:
        db.session.add(ProgrammeAvailability(organisation_id=org.id, programme_id=programme_id))
    db.session.flush()
    record("organisation.programmes_available", actor=actor, organisation_id=org.id,
           programme_ids=sorted(wanted))


def save_organisation(actor: User | None, data: OrganisationData, org: Organisation | None = None) -> Organisation:
    """Create or edit an organisation; there is exactly one client company."""
    name = data.name.strip()
    clash = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if clash is not None and clash is not org:
        raise AccountError(_("An organisation with this name already exists."), "name")
    if data.kind is OrganisationKind.CLIENT:
        client = db.session.scalar(select(Organisation).where(Organisation.kind == OrganisationKind.CLIENT))
        if client is not None and client is not org:
            raise AccountError(_("%(organisation)s is already the client company; add partners instead.",
                                 organisation=client.name), "kind")
    new = {"name": name, "kind": data.kind, "country": data.country.strip().upper(),
           "contract_reference": data.contract_reference.strip(),
           "contact_email": normalise_email(data.contact_email),
           "mfa_required_roles": data.mfa_required_roles, "xapi_identify_by_email": data.xapi_identify_by_email}
    if data.locale is not None:
        new["language"], new["time_zone"] = data.locale
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
