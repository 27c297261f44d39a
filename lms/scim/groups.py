"""SCIM Groups: the identity provider's groups within one organisation, and what membership means.

An admin sets, per group, a role (agent or trainer) or a programme (lms/scim/models.py). After
every change of membership or setting, each person concerned is brought in line: a member of a
trainer group is a trainer, of an agent group (and no trainer group) an agent; people in no
role group keep their role. A programme group assigns its programme to each agent who joins
(due in PROGRAMME_DUE_DAYS); leaving the group keeps what was assigned, as training evidence.
"""
from __future__ import annotations

from pydantic import ValidationError
from scim2_models import Context, GroupMember, Meta, PatchOp
from scim2_models import Group as ScimGroupResource
from sqlalchemy import Select, func, select

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.certification import services as certification
from lms.certification.models import Assignment
from lms.extensions import db
from lms.scim import users
from lms.scim.errors import ScimProblem, invalid_value, not_found
from lms.scim.models import ScimGroup, ScimGroupMember, ScimToken

PROGRAMME_DUE_DAYS = 30


def scoped(token: ScimToken) -> Select:
    return select(ScimGroup).where(ScimGroup.organisation_id == token.organisation_id)


def find(token: ScimToken, resource_id: str) -> ScimGroup:
    row_id = users.numeric_id(resource_id)
    group = db.session.scalar(scoped(token).where(ScimGroup.id == row_id)) if row_id is not None else None
    if group is None:
        raise not_found("Group", resource_id)
    return group


def to_scim(group: ScimGroup, location: str, user_location) -> ScimGroupResource:
    return ScimGroupResource(
        id=str(group.id), display_name=group.display_name, external_id=group.external_id,
        members=[GroupMember(value=str(u.id), display=u.name, ref=user_location(u)) for u in group.members] or None,
        meta=Meta(resource_type="Group", created=group.created_at, last_modified=group.created_at, location=location),
    )


def parse(payload: object, context: Context) -> ScimGroupResource:
    try:
        return ScimGroupResource.model_validate(payload, scim_ctx=context)
    except (ValidationError, ValueError, TypeError) as error:
        raise invalid_value(f"Not a valid SCIM Group: {users._first_error(error)}") from error


def _members(token: ScimToken, resource: ScimGroupResource) -> list[User]:
    wanted = {users.numeric_id(m.value or "") for m in resource.members or []}
    if None in wanted:
        raise invalid_value("Group members are given by the id of a User of this organisation.")
    found = db.session.scalars(users.scoped(token).where(User.id.in_(wanted))).all() if wanted else []
    if len(found) != len(wanted):
        raise invalid_value("A member is not a User of this organisation.")
    return list(found)


def _save(token: ScimToken, group: ScimGroup, resource: ScimGroupResource) -> ScimGroup:
    name = (resource.display_name or "").strip()
    if not name:
        raise invalid_value("displayName is required.")
    clash = db.session.scalar(scoped(token).where(func.lower(ScimGroup.display_name) == name.lower()))
    if clash is not None and clash is not group:
        raise ScimProblem(409, f"This organisation already has a group called {name}.", "uniqueness")
    members = _members(token, resource)
    before = set(group.members)
    group.display_name, group.external_id = name[:200], resource.external_id
    group.members = members
    db.session.add(group)  # only now: the checks above query, and a half-filled row must not autoflush
    db.session.flush()
    apply_membership(before | set(members))
    return group


def create(token: ScimToken, resource: ScimGroupResource) -> ScimGroup:
    return _save(token, ScimGroup(organisation_id=token.organisation_id), resource)


def replace(token: ScimToken, group: ScimGroup, resource: ScimGroupResource) -> ScimGroup:
    return _save(token, group, resource)


def patch(token: ScimToken, group: ScimGroup, payload: object, location: str, user_location) -> ScimGroup:
    try:
        operations = PatchOp[ScimGroupResource].model_validate(payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        resource = to_scim(group, location, user_location)
        operations.patch(resource)
    except Exception as error:  # the library's SCIMException family and pydantic's errors
        scim_type = getattr(error, "scim_type", None) or "invalidValue"
        raise ScimProblem(400, f"Cannot apply this PATCH: {users._first_error(error)}", scim_type) from error
    return _save(token, group, resource)


def delete(group: ScimGroup) -> None:
    """The group goes; its former members keep the role and training it gave them until re-grouped."""
    members = set(group.members)
    db.session.delete(group)
    db.session.flush()
    apply_membership(members)


def listing(token: ScimToken, value: str | None, start_index: int, count: int) -> tuple[int, list[ScimGroup]]:
    query = scoped(token)
    if value is not None:
        query = query.where(func.lower(ScimGroup.display_name) == value.strip().lower())
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = db.session.scalars(query.order_by(ScimGroup.id).offset(start_index - 1).limit(count)).all() if count else []
    return total, list(found)


def apply_membership(people: set[User]) -> None:
    """Bring each person's role and programmes in line with the groups they are in."""
    for user in people:
        groups = db.session.scalars(select(ScimGroup).join(ScimGroupMember)
                                    .where(ScimGroupMember.user_id == user.id)).all()
        roles = {g.role for g in groups if g.role}
        role = Role.TRAINER if "trainer" in roles else Role.AGENT if "agent" in roles else user.role
        if role is not user.role:
            data = accounts.UserData(email=user.email, name=user.name, role=role, organisation_id=user.organisation_id,
                                     employee_id=user.employee_id, team=user.team)
            accounts.update_user(None, user, data)
        if user.role is not Role.AGENT:
            continue
        for group in groups:
            if group.programme_id is None:
                continue
            assigned = db.session.scalar(select(Assignment.id).where(Assignment.user_id == user.id,
                                                                     Assignment.programme_id == group.programme_id))
            if assigned is None:
                certification.assign(None, group.programme, user=user, due_days=PROGRAMME_DUE_DAYS)
