"""Every refusal is a SCIM Error (RFC 7644 §3.12) with the right status and scimType; malformed
input is a 400, never a 500."""
from __future__ import annotations

from datetime import timedelta

import pytest
from scim2_models import Email, Error, Name, User

from lms.clock import now
from lms.extensions import db
from lms.scim import tokens
from tests.scim.conftest import scim_client

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers.get("Content-Type", "").startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    assert body.get("scimType") == scim_type
    assert body["detail"]
    return body


def _user(idp, user_name="ana@atlas.example") -> str:
    return idp.create(User(user_name=user_name, name=Name(formatted="Ana"), emails=[Email(value=user_name)])).id


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer scim_nope_nope", "Basic YWRtaW46YWRtaW4=", "Bearer csa_x_y"])
def test_a_missing_or_wrong_token_is_401(app, orgs, header):
    client = scim_client(app, None)
    for path in ("/Users", "/Groups", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes"):
        response = client.request("GET", f"{client.base_url}{path}",
                                  headers={"Authorization": header} if header else {})
        _error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_401(app, orgs):
    token, secret = tokens.create_token(orgs["admin"], orgs["atlas"], "Old", 1)
    db.session.commit()
    client = scim_client(app, secret)
    assert client.request("GET", f"{client.base_url}/Users").status_code == 200
    token.expires_at = now() - timedelta(seconds=1)
    db.session.commit()
    _error(client.request("GET", f"{client.base_url}/Users"), 401)
    token.expires_at = now() + timedelta(days=1)
    tokens.revoke_token(orgs["admin"], token)
    db.session.commit()
    _error(client.request("GET", f"{client.base_url}/Users"), 401)


def test_a_session_cookie_is_not_a_token(app, client, orgs):
    from tests.conftest import login
    from tests.factories import PASSWORD
    assert login(client, orgs["admin"].email, PASSWORD).status_code == 302
    response = client.get("/scim/v2/Users")
    assert response.status_code == 401 and response.json["schemas"] == [ERROR]


@pytest.mark.parametrize("filter_text", ['userName sw "a"', 'userName eq a', 'emails.value eq "a@b.c"',
                                         'userName eq "a" and active eq true', '"', 'userName eq "\\x"'])
def test_unsupported_filters_are_invalid_filter(idp, filter_text):
    _error(idp.request("GET", f"{idp.base_url}/Users", params={"filter": filter_text}), 400, "invalidFilter")


@pytest.mark.parametrize("params", [{"startIndex": "x"}, {"count": "1.5"}, {"startIndex": "9" * 400}])
def test_bad_paging_is_invalid_value(idp, params):
    response = idp.request("GET", f"{idp.base_url}/Users", params=params)
    assert response.status_code == 400, response.text


def test_paging_out_of_range_is_clamped(idp):
    _user(idp)
    body = idp.request("GET", f"{idp.base_url}/Users", params={"startIndex": "-4", "count": "-1"}).json()
    assert body["totalResults"] == 1 and body["startIndex"] == 1 and body["Resources"] == []


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"[]", b"null", b'{"schemas": "x"}',
                                  b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}',
                                  b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "not-an-email"}',
                                  b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 5}',
                                  b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.example", "active": "maybe"}'])
def test_malformed_users_are_400(idp, body):
    response = idp.request("POST", f"{idp.base_url}/Users", content=body,
                           headers={"Content-Type": "application/scim+json"})
    assert response.status_code == 400, response.text
    assert response.json()["schemas"] == [ERROR]


@pytest.mark.parametrize("body", [b"{", b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}',
                                  b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "explode"}]}',
                                  b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "nonsense[[", "value": 1}]}',
                                  b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "userName", "value": "not an email"}]}',
                                  b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "userName"}]}'])
def test_malformed_patches_are_400(idp, body):
    user_id = _user(idp)
    response = idp.request("PATCH", f"{idp.base_url}/Users/{user_id}", content=body,
                           headers={"Content-Type": "application/scim+json"})
    assert response.status_code == 400, response.text
    assert response.json()["schemas"] == [ERROR]


def test_a_taken_user_name_or_external_id_is_409_uniqueness(idp, other_idp):
    idp.create(User(user_name="ana@atlas.example", external_id="AT-1", emails=[Email(value="ana@atlas.example")]))
    again = idp.create(User(user_name="ANA@atlas.example"), raise_scim_errors=False)
    assert isinstance(again, Error) and again.status == 409 and again.scim_type == "uniqueness"
    same_id = idp.create(User(user_name="bo@atlas.example", external_id="AT-1"), raise_scim_errors=False)
    assert isinstance(same_id, Error) and same_id.status == 409 and same_id.scim_type == "uniqueness"
    # An e-mail is unique across the academy: another organisation's IdP cannot take it over.
    elsewhere = other_idp.create(User(user_name="ana@atlas.example"), raise_scim_errors=False)
    assert isinstance(elsewhere, Error) and elsewhere.status == 409


@pytest.mark.parametrize("path", ["/Users/999999", "/Users/abc", "/Users/99999999999999999999", "/Users/١٢", "/Groups/999999", "/Groups/x",
                                  "/Schemas/urn:nope", "/ResourceTypes/Nope"])
def test_unknown_resources_are_404(idp, path):
    _error(idp.request("GET", f"{idp.base_url}{path}"), 404)
