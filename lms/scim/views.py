"""/scim/v2: the SCIM 2.0 service provider (RFC 7644), for one organisation per bearer token.

The session cookie is never looked at here: lms/policy.py declares these endpoints SCIM_TOKEN, so
the sign-in hook leaves them to `_authenticate` below, which is also why the blueprint is exempt
from CSRF (a browser cannot attach a bearer token on its own). Every answer, errors included, is
`application/scim+json`; malformed input is a 400 SCIM error, never a 500.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g, request
from scim2_models import (
    AuthenticationScheme, Bulk, ChangePassword, Context, ETag, Error, Filter, ListResponse, Patch, ResourceType,
    ServiceProviderConfig, Sort,
)
from scim2_models import Group as ScimGroupResource
from scim2_models import User as ScimUser
from werkzeug.exceptions import HTTPException

from lms.addresses import external_url
from lms.extensions import csrf, db
from lms.scim import groups, tokens, users
from lms.scim.errors import ScimProblem, invalid_value
from lms.scim.filters import parse_equals

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
csrf.exempt(bp)

MEDIA_TYPE = "application/scim+json"
MAX_START_INDEX = 10**9


def _reply(document: dict[str, Any], status: int = 200, location: str | None = None) -> Response:
    response = Response(json.dumps(document), status=status, mimetype=MEDIA_TYPE)
    if location:
        response.headers["Location"] = location
    return response


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    response = _reply(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="CallSafe Academy SCIM"'
    return response


@bp.before_request
def _authenticate():
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    token = tokens.authenticate(bearer.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _error(401, "Send a live SCIM token as Authorization: Bearer scim_…")
    g.scim_token = token
    return None


@bp.errorhandler(ScimProblem)
def _problem(problem: ScimProblem):
    db.session.rollback()
    return _error(problem.status, problem.detail, problem.scim_type)


@bp.errorhandler(HTTPException)
def _http(error: HTTPException):
    return _error(error.code or 500, error.description or error.name)


def _body() -> object:
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ScimProblem(400, "The body is not JSON.", "invalidSyntax") from error


def _paging() -> tuple[int, int]:
    """startIndex (1-based; less than 1 means 1) and count (negative means 0), RFC 7644 §3.4.2.4."""
    try:
        start = int(request.args.get("startIndex", 1))
        count = int(request.args.get("count", users.MAX_PAGE))
    except ValueError as error:
        raise invalid_value("startIndex and count are integers.") from error
    if start > MAX_START_INDEX:  # beyond any organisation's size, and beyond what a database integer holds
        raise invalid_value(f"startIndex is at most {MAX_START_INDEX}.")
    return max(start, 1), min(max(count, 0), users.MAX_PAGE)


def _user_location(user) -> str:
    return external_url("scim.user", user_id=str(user.id))


def _user_document(user, context: Context = Context.RESOURCE_QUERY_RESPONSE) -> dict[str, Any]:
    return users.to_scim(user, _user_location(user)).model_dump(scim_ctx=context)


def _group_location(group) -> str:
    return external_url("scim.group", group_id=str(group.id))


def _group_document(group, context: Context = Context.RESOURCE_QUERY_RESPONSE) -> dict[str, Any]:
    return groups.to_scim(group, _group_location(group), _user_location).model_dump(scim_ctx=context)


def _list(documents: list[dict[str, Any]], total: int, start: int) -> Response:
    return _reply({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": total,
                   "startIndex": start, "itemsPerPage": len(documents), "Resources": documents})


# ---- Users ---------------------------------------------------------------------------------

@bp.get("/Users")
def user_list():
    attribute, value = parse_equals(request.args.get("filter"), {"username", "externalid"})
    start, count = _paging()
    page = users.listing(g.scim_token, attribute, value, start, count)
    db.session.commit()  # the token's last use
    return _list([_user_document(u) for u in page.users], page.total, page.start_index)


@bp.post("/Users")
def user_create():
    user = users.create(g.scim_token, users.parse(_body(), Context.RESOURCE_CREATION_REQUEST))
    # Built before the commit, which would expire the row and cost a SELECT to read it back.
    document, location = _user_document(user, Context.RESOURCE_CREATION_RESPONSE), _user_location(user)
    db.session.commit()
    return _reply(document, 201, location)


@bp.get("/Users/<user_id>")
def user(user_id: str):
    found = users.find(g.scim_token, user_id)
    db.session.commit()
    return _reply(_user_document(found))


@bp.put("/Users/<user_id>")
def user_replace(user_id: str):
    found = users.find(g.scim_token, user_id)
    users.replace(g.scim_token, found, users.parse(_body(), Context.RESOURCE_REPLACEMENT_REQUEST))
    document = _user_document(found, Context.RESOURCE_REPLACEMENT_RESPONSE)
    db.session.commit()
    return _reply(document)


@bp.patch("/Users/<user_id>")
def user_patch(user_id: str):
    found = users.find(g.scim_token, user_id)
    users.patch(g.scim_token, found, _body(), _user_location(found))
    document = _user_document(found, Context.RESOURCE_PATCH_RESPONSE)
    db.session.commit()
    return _reply(document)


@bp.delete("/Users/<user_id>")
def user_delete(user_id: str):
    users.deactivate(users.find(g.scim_token, user_id))
    db.session.commit()
    return Response(status=204)


# ---- Groups --------------------------------------------------------------------------------

@bp.get("/Groups")
def group_list():
    _, value = parse_equals(request.args.get("filter"), {"displayname"})
    start, count = _paging()
    total, found = groups.listing(g.scim_token, value, start, count)
    db.session.commit()
    return _list([_group_document(group) for group in found], total, start)


@bp.post("/Groups")
def group_create():
    group = groups.create(g.scim_token, groups.parse(_body(), Context.RESOURCE_CREATION_REQUEST))
    db.session.commit()
    return _reply(_group_document(group, Context.RESOURCE_CREATION_RESPONSE), 201, _group_location(group))


@bp.get("/Groups/<group_id>")
def group(group_id: str):
    found = groups.find(g.scim_token, group_id)
    db.session.commit()
    return _reply(_group_document(found))


@bp.put("/Groups/<group_id>")
def group_replace(group_id: str):
    found = groups.find(g.scim_token, group_id)
    groups.replace(g.scim_token, found, groups.parse(_body(), Context.RESOURCE_REPLACEMENT_REQUEST))
    db.session.commit()
    return _reply(_group_document(found, Context.RESOURCE_REPLACEMENT_RESPONSE))


@bp.patch("/Groups/<group_id>")
def group_patch(group_id: str):
    found = groups.find(g.scim_token, group_id)
    groups.patch(g.scim_token, found, _body(), _group_location(found), _user_location)
    db.session.commit()
    return _reply(_group_document(found, Context.RESOURCE_PATCH_RESPONSE))


@bp.delete("/Groups/<group_id>")
def group_delete(group_id: str):
    groups.delete(groups.find(g.scim_token, group_id))
    db.session.commit()
    return Response(status=204)


# ---- Discovery (RFC 7644 §4) -------------------------------------------------------------------

@bp.get("/ServiceProviderConfig")
def service_provider_config():
    config = ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True), bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=users.MAX_PAGE), change_password=ChangePassword(supported=False),
        sort=Sort(supported=False), etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type="oauthbearertoken", name="Bearer token",
            description="A token an admin creates on the organisation's SCIM page", primary=True)],
        meta={"resourceType": "ServiceProviderConfig", "location": external_url("scim.service_provider_config")},
    )
    return _reply(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _resource_types() -> list[dict[str, Any]]:
    documents = []
    for model in (ScimUser, ScimGroupResource):
        document = ResourceType.from_resource(model).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        document["meta"] = {"resourceType": "ResourceType",
                            "location": external_url("scim.resource_type", name=document["id"])}
        documents.append(document)
    return documents


@bp.get("/ResourceTypes")
def resource_types():
    found = _resource_types()
    return _list(found, len(found), 1)


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str):
    for document in _resource_types():
        if document["id"] == name:
            return _reply(document)
    raise ScimProblem(404, f"No resource type {name}.")


def _schemas() -> list[dict[str, Any]]:
    documents = []
    for model in (ScimUser, ScimGroupResource):
        document = model.to_schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        document["meta"] = {"resourceType": "Schema", "location": external_url("scim.schema", schema_id=document["id"])}
        documents.append(document)
    return documents


@bp.get("/Schemas")
def schemas():
    found = _schemas()
    return _list(found, len(found), 1)


@bp.get("/Schemas/<schema_id>")
def schema(schema_id: str):
    for document in _schemas():
        if document["id"] == schema_id:
            return _reply(document)
    raise ScimProblem(404, f"No schema {schema_id}.")
