"""Groups: membership kept from the IdP; what it means (role or programme) set by an admin."""
from __future__ import annotations

from scim2_models import Email, Error, Group, GroupMember, Name, PatchOp, PatchOperation, SearchRequest, User
from sqlalchemy import select

from lms.accounts.models import Role
from lms.accounts.models import User as Account
from lms.certification.models import Assignment, Programme
from lms.extensions import db
from lms.scim.groups import apply_membership
from lms.scim.models import ScimGroup


def _create(client, user_name: str) -> User:
    return client.create(User(user_name=user_name, name=Name(formatted=user_name), emails=[Email(value=user_name)]))


def _role(user_id: str) -> Role:
    db.session.expire_all()
    return db.session.get(Account, int(user_id)).role


def test_groups_map_to_roles(idp):
    ana, bo = _create(idp, "ana@atlas.example"), _create(idp, "bo@atlas.example")
    trainers = idp.create(Group(display_name="Atlas Trainers", external_id="g-1", members=[GroupMember(value=ana.id)]))
    assert [m.value for m in trainers.members] == [ana.id]
    assert _role(ana.id) is Role.AGENT  # the group means nothing until an admin says so

    group = db.session.get(ScimGroup, int(trainers.id))
    group.role = "trainer"
    apply_membership(set(group.members))
    db.session.commit()
    assert _role(ana.id) is Role.TRAINER

    add_bo = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.add, path="members",
                                                              value=[{"value": bo.id}])])
    patched = idp.modify(Group, trainers.id, add_bo)
    assert sorted(m.value for m in patched.members) == sorted([ana.id, bo.id])
    assert _role(bo.id) is Role.TRAINER

    agents = idp.create(Group(display_name="Atlas Agents", members=[GroupMember(value=ana.id)]))
    db.session.get(ScimGroup, int(agents.id)).role = "agent"
    db.session.commit()
    remove_ana = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.remove,
                                                                  path=f'members[value eq "{ana.id}"]')])
    assert [m.value for m in idp.modify(Group, trainers.id, remove_ana).members] == [bo.id]
    assert _role(ana.id) is Role.AGENT and _role(bo.id) is Role.TRAINER

    found = idp.query(Group, query_parameters=SearchRequest(filter='displayName eq "atlas trainers"'))
    assert found.total_results == 1 and found.resources[0].id == trainers.id
    duplicate = idp.create(Group(display_name="Atlas Trainers"), raise_scim_errors=False)
    assert isinstance(duplicate, Error) and duplicate.status == 409 and duplicate.scim_type == "uniqueness"

    assert idp.delete(Group, trainers.id) is None
    assert idp.query(Group, trainers.id, raise_scim_errors=False).status == 404
    assert _role(bo.id) is Role.TRAINER  # kept until regrouped


def test_a_programme_group_assigns_its_programme_to_agents_who_join(idp):
    programme = Programme(slug="gdpr-basics")
    db.session.add(programme)
    db.session.commit()
    ana = _create(idp, "ana@atlas.example")
    group = idp.create(Group(display_name="New joiners"))
    db.session.get(ScimGroup, int(group.id)).programme_id = programme.id
    db.session.commit()

    idp.replace(Group(id=group.id, display_name="New joiners", members=[GroupMember(value=ana.id)]))
    db.session.expire_all()
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == int(ana.id)))
    assert assignment is not None and assignment.programme_id == programme.id and assignment.due_days == 30
    # Joining again assigns nothing twice.
    idp.replace(Group(id=group.id, display_name="New joiners", members=[GroupMember(value=ana.id)]))
    assert len(db.session.scalars(select(Assignment).where(Assignment.user_id == int(ana.id))).all()) == 1
