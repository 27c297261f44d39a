"""API keys: bearer only, scoped to an organisation and to scopes, rotated, revoked, rate-limited,
their use counted per minute; and the admin pages that manage them."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import Role
from lms.api import keys, usage
from lms.api.models import ApiKey, ApiUsageTally
from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.jobs.models import Job
from tests import factories
from tests.api.conftest import START, bearer
from tests.conftest import csrf_token, make_app


def _every_endpoint(world, agent) -> list[tuple[str, str, dict | None]]:
    return [("GET", f"/api/v1/agents/{agent.id}/clearance", None),
            ("POST", "/api/v1/clearance:batch", {"ids": [str(agent.id)]}),
            ("GET", "/api/v1/agents", None), ("GET", "/api/v1/awards", None), ("GET", "/api/v1/evidence-packs", None)]


def test_a_scoped_key_never_sees_another_organisations_agent(app, client, world):
    northwind_agent = world["certified"]
    db.session.add(Job(kind="evidence_pack", requested_by_id=world["admin"].id, organisation_id=world["client"].id))
    db.session.add(Job(kind="evidence_pack", requested_by_id=world["admin"].id, organisation_id=world["atlas"].id))
    db.session.commit()
    headers = bearer(world["scoped"])
    assert client.get(f"/api/v1/agents/{northwind_agent.id}/clearance", headers=headers).status_code == 404
    batch = client.post("/api/v1/clearance:batch", json={"ids": [str(northwind_agent.id)]}, headers=headers)
    assert batch.get_json()["results"] == [{"id": str(northwind_agent.id), "found": False, "error": "No such agent."}]
    agents = client.get("/api/v1/agents", headers=headers).get_json()["items"]
    assert agents and {a["organisation_id"] for a in agents} == {world["atlas"].id}
    awards = client.get("/api/v1/awards", headers=headers).get_json()["items"]
    assert [a["id"] for a in awards] == [world["atlas_award"].id]
    assert client.get("/api/v1/awards", query_string={"agent_id": northwind_agent.id},
                      headers=headers).get_json()["items"] == []
    packs = client.get("/api/v1/evidence-packs", headers=headers).get_json()["items"]
    assert [p["organisation_id"] for p in packs] == [world["atlas"].id]
    # The company-wide key sees both.
    wide = client.get("/api/v1/awards", headers=bearer(world["wide"])).get_json()["items"]
    assert {a["id"] for a in wide} == {world["award"].id, world["atlas_award"].id}
    assert all(a["verify_url"] == app.config["BASE_URL"].rstrip("/") + f"/verify/{a['certificate_code']}" for a in wide)


def test_agents_by_status_in_pages(client, world):
    headers = bearer(world["wide"])
    certified = client.get("/api/v1/agents", query_string={"status": "certified"}, headers=headers).get_json()
    assert [i["agent_id"] for i in certified["items"]] == [world["certified"].id]
    first = client.get("/api/v1/agents", query_string={"per_page": 2}, headers=headers).get_json()
    assert len(first["items"]) == 2 and first["next_page"] == 2
    second = client.get("/api/v1/agents", query_string={"per_page": 2, "page": 2}, headers=headers).get_json()
    assert second["next_page"] is None and second["items"]
    assert client.get("/api/v1/agents", query_string={"status": "asleep"}, headers=headers).status_code == 400


def test_without_a_live_bearer_key_every_endpoint_is_401(app, client, world):
    agent = world["atlas_agent"]
    staff = factories.user(Role.ADMIN, world["client"])
    db.session.commit()
    from tests.conftest import login
    assert login(client, staff.email, factories.PASSWORD).status_code == 302  # a session is no credential here
    for headers in ({}, {"Authorization": "Basic eDp5"}, bearer("csa_nope_nope"),
                    bearer(world["scoped"][:-2] + ("yy" if world["scoped"].endswith("xx") else "xx"))):
        for method, url, body in _every_endpoint(world, agent):
            reply = client.open(url, method=method, json=body, headers=headers)
            assert reply.status_code == 401, (headers, url)
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_rotation_and_revocation_stop_the_old_token(client, world):
    key, old = world["scoped_key"], world["scoped"]
    url = f"/api/v1/agents/{world['atlas_agent'].id}/clearance"
    new = keys.rotate_key(world["admin"], key)
    db.session.commit()
    assert client.get(url, headers=bearer(old)).status_code == 401
    assert client.get(url, headers=bearer(new)).status_code == 200
    assert new.startswith(f"csa_{key.prefix}_")
    keys.revoke_key(world["admin"], key)
    db.session.commit()
    assert client.get(url, headers=bearer(new)).status_code == 401


def test_the_secret_is_stored_hashed_only(world):
    key, token = world["scoped_key"], world["scoped"]
    secret = token.split("_", 2)[2]
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for row in db.session.execute(select(ApiKey.__table__)) for value in row]
    assert stored and not any(secret in value for value in stored)


def test_a_key_without_the_scope_is_refused(client, world):
    _, token = keys.create_key(world["admin"], "Clearance only", ["clearance:read"], None)
    db.session.commit()
    assert client.get("/api/v1/awards", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/agents", headers=bearer(token)).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(client, world, at):
    url = f"/api/v1/agents/{world['atlas_agent'].id}/clearance"
    client.get(url, headers=bearer(world["scoped"]))
    assert db.session.get(ApiKey, world["scoped_key"].id).last_used_at == START
    at(START + timedelta(seconds=30))
    client.get(url, headers=bearer(world["scoped"]))
    db.session.expire_all()
    assert db.session.get(ApiKey, world["scoped_key"].id).last_used_at == START
    at(START + timedelta(seconds=61))
    client.get(url, headers=bearer(world["scoped"]))
    db.session.expire_all()
    assert db.session.get(ApiKey, world["scoped_key"].id).last_used_at == START + timedelta(seconds=61)


def test_use_is_audited_once_per_key_route_and_minute(client, world, at):
    url = f"/api/v1/agents/{world['atlas_agent'].id}/clearance"
    for _ in range(5):
        assert client.get(url, headers=bearer(world["scoped"])).status_code == 200
    assert client.get("/api/v1/agents/999999/clearance", headers=bearer(world["scoped"])).status_code == 404
    tallies = db.session.scalars(select(ApiUsageTally).order_by(ApiUsageTally.status)).all()
    assert [(t.status, t.count) for t in tallies] == [(200, 5), (404, 1)]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.used")).all() == []
    at(START + timedelta(minutes=1))
    assert usage.record_closed() == 2
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.used")).all()
    assert sorted(e.data["count"] for e in events) == [1, 5]
    assert usage.record_closed() == 0  # each tally once


def test_the_first_call_of_a_minute_audits_the_closed_ones(client, world, at):
    url = f"/api/v1/agents/{world['atlas_agent'].id}/clearance"
    for _ in range(3):
        assert client.get(url, headers=bearer(world["scoped"])).status_code == 200
    at(START + timedelta(seconds=59))
    assert client.get(url, headers=bearer(world["scoped"])).status_code == 200
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.used")).all() == []
    at(START + timedelta(minutes=1, seconds=5))
    assert client.get(url, headers=bearer(world["scoped"])).status_code == 200
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.used")).all()
    assert [(e.data["count"], e.data["status"], e.data["minute"]) for e in events] == \
        [(4, 200, START.replace(second=0, microsecond=0).isoformat())]


def test_calls_are_rate_limited_per_key(app, client, world):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    url = f"/api/v1/agents/{world['atlas_agent'].id}/clearance"
    replies = [client.get(url, headers=bearer(world["scoped"])) for _ in range(4)]
    assert [reply.status_code for reply in replies] == [200, 200, 200, 429]
    assert [reply.headers["X-RateLimit-Remaining"] for reply in replies] == ["2", "1", "0", "0"]
    assert {reply.headers["X-RateLimit-Limit"] for reply in replies} == {"3"}
    refused = replies[-1]
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 60
    assert refused.get_json()["message"] == f"This key's limit (3 per minute) is reached: try again in {wait} s."
    other = client.get(url, headers=bearer(world["wide"]))  # another key, its own budget
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2"
    # Refused calls are counted in the usage tally, as every call is.
    statuses = db.session.execute(select(ApiUsageTally.status, ApiUsageTally.count)
                                  .where(ApiUsageTally.api_key_id == world["scoped_key"].id)).all()
    assert sorted(statuses) == [(200, 3), (429, 1)]


def test_a_keys_budget_is_shared_by_every_worker_through_redis(app, world):
    """Two app instances (as two gunicorn workers) count one key's calls together in Redis."""
    import redis

    url = "redis://127.0.0.1:6379/14"
    redis.Redis.from_url(url).flushdb()
    settings = dict(RATELIMIT_STORAGE_URI=url, API_RATE_LIMIT="3 per minute",
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    first, second = make_app(**settings), make_app(**settings)
    path = f"/api/v1/agents/{world['atlas_agent'].id}/clearance"
    try:
        replies = [instance.test_client().get(path, headers=bearer(world["scoped"]))
                   for instance in (first, second, first, second)]
        assert [reply.status_code for reply in replies] == [200, 200, 200, 429]
        assert [reply.headers["X-RateLimit-Remaining"] for reply in replies] == ["2", "1", "0", "0"]
    finally:
        redis.Redis.from_url(url).flushdb()
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()


def test_admin_creates_a_key_shown_once_then_rotates_and_revokes_it(client, world, login_as):
    login_as(world["admin"])
    empty = client.get("/admin/api-keys/")
    assert "Workforce management" in empty.get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, "/admin/api-keys/new"), "name": "Telephony",
            "organisation_id": str(world["atlas"].id), "scopes": ["clearance:read"]}
    page = client.post("/admin/api-keys/new", data=form).get_data(as_text=True)
    assert "shown only this once" in page
    token = re.search(r'id="api-token"[^>]*value="([^"]+)"', page).group(1)
    assert token.startswith("csa_")
    assert client.get(f"/api/v1/agents/{world['atlas_agent'].id}/clearance", headers=bearer(token)).status_code == 200
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == "Telephony"))
    assert key.organisation_id == world["atlas"].id and key.scopes == "clearance:read"
    listing = client.get("/admin/api-keys/").get_data(as_text=True)
    assert token not in listing and f"csa_{key.prefix}_…" in listing
    rotated = client.post(f"/admin/api-keys/{key.id}/rotate",
                          data={"csrf_token": csrf_token(client, f"/admin/api-keys/{key.id}/rotate")})
    new = re.search(r'id="api-token"[^>]*value="([^"]+)"', rotated.get_data(as_text=True)).group(1)
    assert client.get(f"/api/v1/agents/{world['atlas_agent'].id}/clearance", headers=bearer(token)).status_code == 401
    token = new
    confirm = client.get(f"/admin/api-keys/{key.id}/revoke").get_data(as_text=True)
    assert "stops working at once" in confirm
    client.post(f"/admin/api-keys/{key.id}/revoke",
                data={"csrf_token": csrf_token(client, f"/admin/api-keys/{key.id}/revoke")})
    assert client.get(f"/api/v1/agents/{world['atlas_agent'].id}/clearance", headers=bearer(token)).status_code == 401


def test_a_key_needs_a_name_and_a_scope(client, world, login_as):
    login_as(world["admin"])
    page = client.post("/admin/api-keys/new", data={"csrf_token": csrf_token(client, "/admin/api-keys/new"),
                                                    "name": "", "organisation_id": "0"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Choose at least one scope." in text and "This field is required." in text


def test_the_cli_prints_a_working_key_once(app, client, world):
    result = app.test_cli_runner().invoke(args=["api", "create-key", "--name", "Demo", "--organisation", "Atlas",
                                                "--scope", "clearance:read"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("csa_")
    assert client.get(f"/api/v1/agents/{world['atlas_agent'].id}/clearance", headers=bearer(token)).status_code == 200
    assert client.get(f"/api/v1/agents/{world['certified'].id}/clearance", headers=bearer(token)).status_code == 404
    missing = app.test_cli_runner().invoke(args=["api", "create-key", "--name", "X", "--organisation", "Nope"])
    assert missing.exit_code != 0 and "no organisation named 'Nope'" in missing.output
