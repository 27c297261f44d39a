"""A token for one organisation never reads or changes another organisation's people or groups."""
from __future__ import annotations

from scim2_models import Email, Error, Group, GroupMember, Name, PatchOp, PatchOperation, SearchRequest, User

from lms.accounts.models import Role
from lms.accounts.models import User as Account
from lms.extensions import db
from lms.scim.models import ScimGroup
from tests import factories


def _create(client, user_name: str) -> User:
    return client.create(User(user_name=user_name, name=Name(formatted=user_name), emails=[Email(value=user_name)]))


def test_every_user_operation_stays_in_the_tokens_organisation(idp, other_idp, orgs):
    theirs = _create(other_idp, "bea@beacon.example")
    _create(idp, "ana@atlas.example")

    listed = idp.query(User)
    assert [u.user_name for u in listed.resources] == ["ana@atlas.example"] and listed.total_results == 1
    filtered = idp.query(User, query_parameters=SearchRequest(filter='userName eq "bea@beacon.example"'))
    assert filtered.total_results == 0

    got = idp.query(User, theirs.id, raise_scim_errors=False)
    assert isinstance(got, Error) and got.status == 404
    replacement = User(id=theirs.id, user_name="bea@beacon.example", display_name="Hijacked")
    assert idp.replace(replacement, raise_scim_errors=False).status == 404
    patch = PatchOp[User](operations=[PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=False)])
    assert idp.modify(User, theirs.id, patch, raise_scim_errors=False).status == 404
    assert idp.delete(User, theirs.id, raise_scim_errors=False).status == 404

    db.session.expire_all()
    stored = db.session.get(Account, int(theirs.id))
    assert (stored.organisation_id, stored.name, stored.active) == (orgs["other"].id, "bea@beacon.example", True)


def test_staff_of_the_organisation_are_not_scim_resources(idp, orgs):
    admin = factories.user(Role.ADMIN, orgs["atlas"], email="boss@atlas.example")
    db.session.commit()
    assert idp.query(User, str(admin.id), raise_scim_errors=False).status == 404
    assert idp.delete(User, str(admin.id), raise_scim_errors=False).status == 404
    db.session.expire_all()
    assert db.session.get(Account, admin.id).active is True


def test_every_group_operation_stays_in_the_tokens_organisation(idp, other_idp, orgs):
    theirs_user = _create(other_idp, "bea@beacon.example")
    theirs = other_idp.create(Group(display_name="Trainers", members=[GroupMember(value=theirs_user.id)]))
    ours = _create(idp, "ana@atlas.example")

    assert idp.query(Group).total_results == 0
    assert idp.query(Group, theirs.id, raise_scim_errors=False).status == 404
    assert idp.replace(Group(id=theirs.id, display_name="Mine"), raise_scim_errors=False).status == 404
    patch = PatchOp[Group](operations=[PatchOperation[Group](op=PatchOperation.Op.add, path="members",
                                                             value=[{"value": ours.id}])])
    assert idp.modify(Group, theirs.id, patch, raise_scim_errors=False).status == 404
    assert idp.delete(Group, theirs.id, raise_scim_errors=False).status == 404
    # Nor can another organisation's person be put into one's own group.
    refused = idp.create(Group(display_name="Trainers", members=[GroupMember(value=theirs_user.id)]),
                         raise_scim_errors=False)
    assert isinstance(refused, Error) and refused.status == 400 and refused.scim_type == "invalidValue"

    db.session.expire_all()
    group = db.session.get(ScimGroup, int(theirs.id))
    assert group.display_name == "Trainers" and [u.email for u in group.members] == ["bea@beacon.example"]
    assert group.organisation_id == orgs["other"].id
