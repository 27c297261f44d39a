"""/api/v1: read-only endpoints for integrations, authenticated by `Authorization: Bearer <key>`.

The session cookie is never looked at here (lms/policy.py declares these endpoints API_KEY, so
the sign-in hook leaves them alone), which is also why the blueprint is exempt from CSRF: a
browser cannot attach a bearer token on its own. Every call is rate-limited per key and counted
in the per-minute usage tallies (lms/api/usage.py).
"""
from __future__ import annotations

import orjson
from flask import current_app, g, request
from flask_smorest import Api, Blueprint, abort
from marshmallow import RAISE
from sqlalchemy import select
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from lms.accounts.models import Role, User
from lms.accounts.services import autocommit_engine
from lms.addresses import external_url
from lms.api import keys, rate_limit, schemas, usage
from lms.api.clearance import ProgrammeRef, clearances, find_programme
from lms.certification.models import Award, Enrolment, Programme
from lms.certification.status import status_expression
from lms.clock import now
from lms.extensions import csrf, db
from lms.evidence.exports import EVIDENCE_PACK
from lms.jobs.models import Job


class _Parser(FlaskParser):
    # A malformed request is the client's error, and 400 is what the house rules promise for it.
    DEFAULT_VALIDATION_STATUS = 400
    # An unknown query parameter is a mistake to report (a misspelt `programme` would otherwise
    # silently widen the answer), as an unknown body field already is.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE}


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()


class _Api(Api):
    def _register_error_handlers(self):
        """JSON errors for the API's blueprint only (below): the rest of the app keeps its pages."""


api = _Api()
bp = _Blueprint("api_v1", __name__, url_prefix="/api/v1",
                description="Clearance of contact-centre agents for live calls, awards and evidence packs")
csrf.exempt(bp)

# The scope each endpoint needs (lms.api.models.SCOPES).
SCOPE_OF = {"api_v1.agent_clearance": "clearance:read", "api_v1.clearance_batch": "clearance:read",
            "api_v1.agent_list": "clearance:read", "api_v1.award_list": "awards:read",
            "api_v1.evidence_pack_list": "jobs:read"}


@bp.before_request
def _authenticate():
    # The key, its use and the clearance queries run on one autocommit connection: no BEGIN, no
    # COMMIT and no ORM session on the hot path (bench/clearance.py). Each of their statements stands
    # alone; what must be atomic (the audit events of closed minutes) uses the session.
    g.api_db = autocommit_engine().connect()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    key = keys.authenticate(g.api_db, token.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        abort(401, message="Send a live API key as `Authorization: Bearer csa_…`.",
              headers={"WWW-Authenticate": 'Bearer realm="CallSafe Academy API"'})
    g.api_key = key
    g.api_budget = budget = rate_limit.count_call(key.prefix, current_app.config["API_RATE_LIMIT"])
    if budget.exceeded:
        abort(429, message=f"This key's limit ({current_app.config['API_RATE_LIMIT']}) is reached: "
                           f"try again in {budget.retry_after} s.", headers=budget.headers())
    if SCOPE_OF[request.endpoint] not in key.scope_list:
        abort(403, message=f"This key lacks the scope {SCOPE_OF[request.endpoint]}.")
    # PostgreSQL refuses NUL in text, so a NUL in an id or a slug would fail the query with a 500.
    if any("\x00" in value for value in (*request.args.values(), *(request.view_args or {}).values())
           if isinstance(value, str)):
        abort(400, message="Parameters must not contain NUL characters.")


@bp.after_request
def _count(response):
    key = g.get("api_key")
    if key is not None:
        usage.note(g.api_db, key.id, request.endpoint or "", response.status_code)
        g.api_budget.add_headers(response)
    return response


@bp.teardown_request
def _release(_error: BaseException | None) -> None:
    connection = g.pop("api_db", None)
    if connection is not None:
        connection.close()


@bp.errorhandler(HTTPException)
def _error(error: HTTPException):
    return api.handle_http_exception(error)


def _json(payload: dict):
    """The reply as JSON, written directly by orjson: marshmallow's dump of 1,000 clearances took longer
    than finding them, and the standard library's encoder a fifth of the batch (bench/clearance.py).
    Datetimes come out as `isoformat()` writes them, naive ones (the clearance query's, in UTC) with
    +00:00. The schemas still document the shape, and tests/api/test_fuzz.py checks every reply
    against them."""
    return current_app.response_class(orjson.dumps(payload, option=orjson.OPT_NAIVE_UTC),
                                      mimetype="application/json")


def _programme(slug: str | None) -> ProgrammeRef | None:
    if slug is None:
        return None
    programme = find_programme(g.api_db, slug)
    if programme is None:
        abort(404, message=f"No programme '{slug}'.")
    return programme


# The path parameter's pattern says, as the query parameters' do, that NUL is refused (400).
# Argument schemas are given as instances: given a class, webargs makes a new one on every call.
@bp.route("/agents/<string:agent>/clearance", parameters=[
    {"in": "path", "name": "agent", "schema": {"type": "string", "minLength": 1, "pattern": schemas.NO_NUL_PATTERN}}])
@bp.arguments(schemas.ClearanceQuery(), location="query")
@bp.response(200, schemas.ClearanceReply)
@bp.alt_response(404, description="No such agent in the key's organisations, or no such programme")
def agent_clearance(args: dict, agent: str):
    """May this agent take live calls?

    `agent` is the agent's id, or `employee:<employee id>`. Cleared means every mandatory
    programme (or the one given) is certified at `at`; the reasons say what is missing or
    expiring, and when.
    """
    programme = _programme(args.get("programme"))
    found = clearances(g.api_db, [agent], args.get("at") or now(), g.api_key.organisation_id, programme)[agent]
    if found is None:
        abort(404, message="No such agent.")
    return _json(found.as_dict())


@bp.route("/clearance:batch", methods=["POST"])
@bp.arguments(schemas.BatchRequest())
@bp.response(200, schemas.BatchReply)
def clearance_batch(args: dict):
    """Clearance of up to 1,000 agents in one call (one database query whatever their number)."""
    programme = _programme(args.get("programme"))
    at = args.get("at") or now()
    found = clearances(g.api_db, args["ids"], at, g.api_key.organisation_id, programme)
    results = [{"id": ref, "found": False, "error": "No such agent."} if found[ref] is None
               else {**found[ref].as_dict(), "found": True} for ref in args["ids"]]
    return _json({"at": at, "results": results})


def _page(args: dict, rows: list) -> dict:
    more = len(rows) > args["per_page"]
    return {"page": args["page"], "per_page": args["per_page"], "next_page": args["page"] + 1 if more else None}


def _scoped(query, column):
    organisation_id = g.api_key.organisation_id
    return query if organisation_id is None else query.where(column == organisation_id)


@bp.route("/agents")
@bp.arguments(schemas.AgentsQuery(), location="query")
@bp.response(200, schemas.AgentsPage)
def agent_list(args: dict):
    """Agents' standing per programme at `at`, filtered by status, in pages (by agent, then programme)."""
    at = args.get("at") or now()
    status = status_expression(at).label("status")
    query = (select(User.id, User.employee_id, User.organisation_id, Programme.slug, status, Enrolment.due_at,
                    Enrolment.recert_due_at, Enrolment.award_valid_until, Enrolment.award_code)
             .select_from(Enrolment).join(User, User.id == Enrolment.user_id)
             .join(Programme, Programme.id == Enrolment.programme_id).where(User.role == Role.AGENT))
    query = _scoped(query, User.organisation_id)
    if "status" in args:
        query = query.where(status_expression(at) == args["status"])
    if "programme" in args:
        query = query.where(Programme.slug == args["programme"])
    rows = db.session.execute(query.order_by(User.id, Programme.slug)
                              .offset((args["page"] - 1) * args["per_page"]).limit(args["per_page"] + 1)).all()
    items = [{"agent_id": r.id, "employee_id": r.employee_id, "organisation_id": r.organisation_id,
              "programme": r.slug, "status": r.status, "due_at": r.recert_due_at or r.due_at,
              "valid_until": r.award_valid_until, "certificate_code": r.award_code}
             for r in rows[:args["per_page"]]]
    return {**_page(args, rows), "at": at, "items": items}


@bp.route("/awards")
@bp.arguments(schemas.AwardsQuery(), location="query")
@bp.response(200, schemas.AwardsPage)
def award_list(args: dict):
    """Awards, newest first, revoked ones included (with when)."""
    query = (select(Award, User.organisation_id, Programme.slug).join(User, User.id == Award.user_id)
             .join(Programme, Programme.id == Award.programme_id))
    query = _scoped(query, User.organisation_id)
    if "agent_id" in args:
        query = query.where(Award.user_id == args["agent_id"])
    if "programme" in args:
        query = query.where(Programme.slug == args["programme"])
    rows = db.session.execute(query.order_by(Award.issued_at.desc(), Award.id.desc())
                              .offset((args["page"] - 1) * args["per_page"]).limit(args["per_page"] + 1)).all()
    items = [{"id": a.id, "agent_id": a.user_id, "organisation_id": org, "programme": slug,
              "issued_at": a.issued_at, "valid_until": a.valid_until, "revoked_at": a.revoked_at,
              "certificate_code": a.verification_code,
              "verify_url": external_url("evidence.verify", code=a.verification_code)}
             for a, org, slug in rows[:args["per_page"]]]
    return {**_page(args, rows), "items": items}


@bp.route("/evidence-packs")
@bp.arguments(schemas.PageQuery(), location="query")
@bp.response(200, schemas.EvidencePacksPage)
def evidence_pack_list(args: dict):
    """Evidence-pack export jobs and their progress (the files are downloaded in the app)."""
    query = _scoped(select(Job).where(Job.kind == EVIDENCE_PACK), Job.organisation_id)
    rows = db.session.scalars(query.order_by(Job.id.desc())
                              .offset((args["page"] - 1) * args["per_page"]).limit(args["per_page"] + 1)).all()
    items = [{"id": j.id, "organisation_id": j.organisation_id, "state": j.state.value,
              "progress_done": j.progress_done, "progress_total": j.progress_total,
              "created_at": j.created_at, "finished_at": j.finished_at} for j in rows[:args["per_page"]]]
    return {**_page(args, rows), "items": items}
