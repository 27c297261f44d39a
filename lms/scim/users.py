"""SCIM Users over the academy's accounts, within the organisation of the caller's token.

Every change goes through lms.accounts.services, so audit events, the user_saved signal
(enrolments) and the ending of sessions on deactivation happen exactly as for an admin's edit.
The identity provider acts on agents and trainers only: an admin, auditor or partner admin of the
organisation is not a SCIM resource (404), so a provisioning mistake cannot lock them out.
DELETE deactivates: the training records of a person are evidence the academy must keep.
"""
from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError
from scim2_models import Context, Email, Meta, Name, PatchOp
from scim2_models import User as ScimUser
from sqlalchemy import Select, func, select

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.scim.errors import ScimProblem, invalid_value, not_found
from lms.scim.models import ScimToken

PROVISIONED_ROLES = (Role.AGENT, Role.TRAINER)
MAX_PAGE = 200  # ServiceProviderConfig's filter.maxResults


@dataclass
class Page:
    total: int
    start_index: int
    users: list[User]


def scoped(token: ScimToken) -> Select:
    """The users a token may see: its organisation's agents and trainers, nobody else."""
    return select(User).where(User.organisation_id == token.organisation_id, User.role.in_(PROVISIONED_ROLES))


def numeric_id(resource_id: str) -> int | None:
    """The row id a SCIM id names, or None (ids are ours: digits that fit a database integer)."""
    return int(resource_id) if resource_id.isascii() and resource_id.isdigit() and len(resource_id) <= 9 else None


def find(token: ScimToken, resource_id: str) -> User:
    row_id = numeric_id(resource_id)
    user = db.session.scalar(scoped(token).where(User.id == row_id)) if row_id is not None else None
    if user is None:
        raise not_found("User", resource_id)
    return user


def to_scim(user: User, location: str) -> ScimUser:
    return ScimUser(
        id=str(user.id), user_name=user.email, external_id=user.employee_id, display_name=user.name,
        name=Name(formatted=user.name), active=user.active, emails=[Email(value=user.email, primary=True)],
        meta=Meta(resource_type="User", created=user.created_at, last_modified=user.created_at, location=location),
    )


def parse(payload: object, context: Context) -> ScimUser:
    """Validate an IdP's User document; any shape error is the client's (400), never ours."""
    try:
        return ScimUser.model_validate(payload, scim_ctx=context)
    except (ValidationError, ValueError, TypeError) as error:
        raise invalid_value(f"Not a valid SCIM User: {_first_error(error)}") from error


def _first_error(error: Exception) -> str:
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)


def _name_of(resource: ScimUser) -> str:
    if resource.display_name:
        return resource.display_name
    if resource.name is not None:
        if resource.name.formatted:
            return resource.name.formatted
        parts = [resource.name.given_name, resource.name.family_name]
        if any(parts):
            return " ".join(p for p in parts if p)
    return resource.user_name or ""


def _data(token: ScimToken, resource: ScimUser, role: Role) -> accounts.UserData:
    if not resource.user_name:
        raise invalid_value("userName is required: the person's e-mail address.")
    try:
        validate_email(resource.user_name, check_deliverability=False)
    except EmailNotValidError as error:
        raise invalid_value(f"userName must be the person's e-mail address: {error}") from error
    email = accounts.normalise_email(resource.user_name)
    return accounts.UserData(email=email, name=_name_of(resource)[:200], role=role,
                             organisation_id=token.organisation_id, employee_id=resource.external_id)


def _apply(call):
    try:
        return call()
    except accounts.AccountError as error:
        if error.field in ("email", "employee_id"):
            raise ScimProblem(409, str(error), "uniqueness") from error
        raise invalid_value(str(error)) from error


def create(token: ScimToken, resource: ScimUser) -> User:
    """Create an agent of the token's organisation (groups may make them a trainer)."""
    data = _data(token, resource, Role.AGENT)
    user = _apply(lambda: accounts.create_user(None, data))
    if resource.active is False:
        accounts.set_active(None, user, False)
    return user


def replace(token: ScimToken, user: User, resource: ScimUser) -> User:
    """PUT: the IdP's view of the person replaces ours (role and organisation stay as they are)."""
    data = _data(token, resource, user.role)
    data.team = user.team  # not a SCIM attribute: PUT must not clear what the admin set
    _apply(lambda: accounts.update_user(None, user, data))
    # RFC 7643 §4.1.1: an omitted `active` leaves the person as they were.
    if resource.active is not None and resource.active != user.active:
        accounts.set_active(None, user, resource.active)
    return user


def patch(token: ScimToken, user: User, payload: object, location: str) -> User:
    """PATCH: apply add/replace/remove operations to the person's SCIM view, then save it as PUT."""
    try:
        operations = PatchOp[ScimUser].model_validate(payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        resource = to_scim(user, location)
        operations.patch(resource)
    except ScimProblem:
        raise
    except Exception as error:  # the library raises its SCIMException family and pydantic's errors
        scim_type = getattr(error, "scim_type", None) or "invalidValue"
        raise ScimProblem(400, f"Cannot apply this PATCH: {_first_error(error)}", scim_type) from error
    return replace(token, user, resource)


def deactivate(user: User) -> None:
    """DELETE: deactivate, ending every session at once; the records stay (see the module's note)."""
    accounts.set_active(None, user, False)


def listing(token: ScimToken, attribute: str | None, value: str | None, start_index: int, count: int) -> Page:
    """One page of the organisation's people, filtered by `userName eq` or `externalId eq`."""
    query = scoped(token)
    if attribute == "username":
        query = query.where(User.email == value.strip().lower())
    elif attribute == "externalid":
        query = query.where(User.employee_id == value)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    users = db.session.scalars(query.order_by(User.id).offset(start_index - 1).limit(count)).all() if count else []
    return Page(total=total, start_index=start_index, users=list(users))
