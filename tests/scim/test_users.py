"""SCIM Users driven by scim2-client as Atlas's identity provider would."""
from __future__ import annotations

import hashlib

from scim2_models import Context, Email, ListResponse, Name, PatchOp, PatchOperation, SearchRequest, User
from sqlalchemy import select

from lms.accounts.models import LoginSession, Role
from lms.accounts.models import User as Account
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.scim.models import ScimToken
from tests import factories
from tests.conftest import login


def _new(user_name: str, **extra) -> User:
    return User(user_name=user_name, name=Name(given_name="Ana", family_name="Silva"),
                emails=[Email(value=user_name, primary=True)], **extra)


def test_create_get_list_replace_and_patch(app, idp, orgs):
    created = idp.create(_new("Ana.Silva@atlas.example", external_id="AT-0042"))
    assert created.user_name == "ana.silva@atlas.example" and created.active is True
    assert created.meta.location == f"{app.config['BASE_URL'].rstrip('/')}/scim/v2/Users/{created.id}"
    stored = db.session.get(Account, int(created.id))
    assert (stored.organisation_id, stored.role, stored.employee_id, stored.name) == \
        (orgs["atlas"].id, Role.AGENT, "AT-0042", "Ana Silva")

    assert idp.query(User, created.id).display_name == "Ana Silva"
    found = idp.query(User, query_parameters=SearchRequest(filter='userName eq "ana.silva@atlas.example"'))
    assert found.total_results == 1 and found.resources[0].id == created.id

    replacement = _new("ana.silva@atlas.example", external_id="AT-0043", display_name="Ana M. Silva")
    replacement.id = created.id
    replaced = idp.replace(replacement)
    assert replaced.display_name == "Ana M. Silva" and replaced.external_id == "AT-0043"

    patched = idp.modify(User, created.id, PatchOp[User](operations=[
        PatchOperation[User](op=PatchOperation.Op.replace_, path="displayName", value="Ana Maria Silva"),
        PatchOperation[User](op=PatchOperation.Op.remove, path="externalId"),
    ]))
    assert patched.display_name == "Ana Maria Silva" and patched.external_id is None
    db.session.expire_all()
    assert db.session.get(Account, int(created.id)).employee_id is None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == created.id)).all()
    assert {"user.created", "user.updated"} <= set(actions)


def test_paging_and_filters(idp, orgs):
    for n in range(5):
        idp.create(_new(f"agent{n}@atlas.example"))
    factories.user(Role.ADMIN, orgs["atlas"])  # not a SCIM resource: never listed, never changed
    db.session.commit()
    first = idp.query(User, query_parameters=SearchRequest(start_index=1, count=2))
    second = idp.query(User, query_parameters=SearchRequest(start_index=3, count=2))
    last = idp.query(User, query_parameters=SearchRequest(start_index=5, count=2))
    assert first.total_results == second.total_results == last.total_results == 5
    assert [len(first.resources), len(second.resources), len(last.resources)] == [2, 2, 1]
    names = [u.user_name for page in (first, second, last) for u in page.resources]
    assert names == [f"agent{n}@atlas.example" for n in range(5)]
    none = idp.query(User, query_parameters=SearchRequest(filter='userName eq "nobody@atlas.example"'))
    assert none.total_results == 0 and not none.resources
    by_external = idp.query(User, query_parameters=SearchRequest(filter='externalId eq "nope"'))
    assert by_external.total_results == 0


def test_deactivation_ends_every_session_at_once(app, client, idp):
    created = idp.create(_new("leaver@atlas.example"))
    account = db.session.get(Account, int(created.id))
    account.password_hash = factories.hash_password(factories.PASSWORD)
    db.session.commit()
    assert login(client, "leaver@atlas.example", factories.PASSWORD).status_code == 302
    assert client.get("/").status_code == 200

    patched = idp.modify(User, created.id, PatchOp[User](operations=[
        PatchOperation[User](op=PatchOperation.Op.replace_, value={"active": False})]))
    assert patched.active is False
    page = client.get("/")
    assert page.status_code == 302 and "/login" in page.location  # the browser is signed out at once
    db.session.expire_all()
    assert db.session.scalar(select(LoginSession).where(LoginSession.user_id == account.id)).revoked_at is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deactivated",
                                                      AuditEvent.target_id == created.id)) is not None

    # PATCH active true brings them back; DELETE deactivates again and keeps the record.
    assert idp.modify(User, created.id, PatchOp[User](operations=[
        PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=True)])).active is True
    assert idp.delete(User, created.id) is None
    db.session.expire_all()
    kept = db.session.get(Account, int(created.id))
    assert kept is not None and kept.active is False and kept.deactivated_at is not None
    assert idp.query(User, created.id).active is False


def test_tokens_are_stored_hashed(orgs):
    rows = db.session.scalars(select(ScimToken)).all()
    secrets = {orgs["atlas_secret"], orgs["other_secret"]}
    for row in rows:
        assert all(row.prefix in s for s in secrets if s.startswith(f"scim_{row.prefix}_"))
        secret = next(s for s in secrets if s.startswith(f"scim_{row.prefix}_")).split("_", 2)[2]
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in row.secret_hash


def test_list_response_is_valid_scim(idp):
    idp.create(_new("one@atlas.example"))
    raw = idp.query(User, check_response_payload=False)
    parsed = ListResponse[User].model_validate(raw, scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    assert raw["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert parsed.total_results == 1 and parsed.items_per_page == 1 and parsed.start_index == 1
