"""GET /api/v1/agents/{id}/clearance and POST /api/v1/clearance:batch."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from lms.api.models import ApiUsageTally
from lms.certification import services
from lms.extensions import db
from tests.api.conftest import MONTH, START, bearer
from tests.evidence.test_certificate_download import statements


def test_a_certified_agent_is_cleared_with_valid_until_and_code(client, world):
    agent, award = world["certified"], world["award"]
    reply = client.get(f"/api/v1/agents/{agent.id}/clearance", headers=bearer(world["wide"]))
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["cleared"] is True and body["reasons"] == []
    assert body["certificate_codes"] == [award.verification_code]
    assert body["valid_until"].startswith(award.valid_until.date().isoformat())
    assert body["programmes"][0]["status"] == "certified"
    assert "Set-Cookie" not in reply.headers  # the API never starts or touches a session


def test_reasons_say_what_is_missing_and_when(client, world):
    reply = client.get(f"/api/v1/agents/{world['fresh'].id}/clearance", headers=bearer(world["wide"]))
    body = reply.get_json()
    assert body["cleared"] is False and body["certificate_codes"] == [] and body["valid_until"] is None
    assert body["reasons"][0]["status"] == "not_started"
    assert body["reasons"][0]["message"] == f"Not started; due {(START + timedelta(days=30)):%Y-%m-%d}."


def test_expiring_is_cleared_with_a_reason_and_at_moves_the_answer(client, world):
    agent = world["atlas_agent"]
    body = client.get(f"/api/v1/agents/{agent.id}/clearance", headers=bearer(world["scoped"])).get_json()
    assert body["cleared"] is True
    assert body["reasons"][0]["status"] == "expiring"
    assert "expires on" in body["reasons"][0]["message"]
    later = (START + 3 * MONTH).isoformat()
    body = client.get(f"/api/v1/agents/{agent.id}/clearance", query_string={"at": later},
                      headers=bearer(world["scoped"])).get_json()
    assert body["cleared"] is False and body["reasons"][0]["status"] == "expired"


def test_employee_id_and_programme(client, world):
    body = client.get("/api/v1/agents/employee:ATL-7/clearance", query_string={"programme": "call-recording-2"},
                      headers=bearer(world["scoped"])).get_json()
    assert body["agent_id"] == world["atlas_agent"].id and body["employee_id"] == "ATL-7"
    assert body["cleared"] is False and body["reasons"][0]["status"] == "not_started"  # not mandatory, but asked
    missing = client.get("/api/v1/agents/employee:ATL-7/clearance", query_string={"programme": "nope"},
                         headers=bearer(world["scoped"]))
    assert missing.status_code == 404 and missing.get_json()["message"] == "No programme 'nope'."


def test_a_revoked_award_clears_no_more(client, world):
    services.revoke(world["admin"], world["award"], "Found to have shared answers")
    db.session.commit()
    body = client.get(f"/api/v1/agents/{world['certified'].id}/clearance", headers=bearer(world["wide"])).get_json()
    assert body["cleared"] is False and body["reasons"][0]["status"] == "revoked"


def test_malformed_input_is_a_400_never_a_500(client, world):
    for query in ({"at": "yesterday"}, {"at": "0001-01-01T00:00:00+14:00"}):
        reply = client.get(f"/api/v1/agents/{world['certified'].id}/clearance", query_string=query,
                           headers=bearer(world["wide"]))
        assert reply.status_code == 400, query
    assert client.post("/api/v1/clearance:batch", data="{", content_type="application/json",
                       headers=bearer(world["wide"])).status_code == 400
    # NUL, which PostgreSQL refuses in text, in the path, the query and the batch's ids.
    agent = f"/api/v1/agents/{world['certified'].id}/clearance"
    for reply in (client.get("/api/v1/agents/employee:A%00/clearance", headers=bearer(world["wide"])),
                  client.get(agent, query_string={"programme": "x\x00"}, headers=bearer(world["wide"])),
                  client.post("/api/v1/clearance:batch", json={"ids": ["employee:\x00"]},
                              headers=bearer(world["wide"]))):
        assert reply.status_code == 400, reply.get_data(as_text=True)


def test_batch_answers_in_order_with_unknown_ids(client, world):
    ids = [str(world["certified"].id), "employee:ATL-7", "999999", "not an id", str(world["fresh"].id)]
    reply = client.post("/api/v1/clearance:batch", json={"ids": ids}, headers=bearer(world["wide"]))
    assert reply.status_code == 200
    results = reply.get_json()["results"]
    assert [r["id"] for r in results] == ids
    assert [r["found"] for r in results] == [True, True, False, False, True]
    assert [r.get("cleared") for r in results] == [True, True, None, None, False]


def test_batch_over_1000_is_a_clear_400(client, world):
    reply = client.post("/api/v1/clearance:batch", json={"ids": ["1"] * 1001}, headers=bearer(world["wide"]))
    assert reply.status_code == 400
    assert "between 1 and 1000 ids" in str(reply.get_json()["errors"])


def test_batch_costs_the_same_queries_for_2_or_1000_ids(app, client, world):
    """Three statements whatever the number: the key, the clearances, and the usage tally's upsert.
    The first call also notes the key's use and looks for closed minutes to audit; later ones that
    minute do not."""
    def statements_of(ids):
        with statements() as seen:
            assert client.post("/api/v1/clearance:batch", json={"ids": ids},
                               headers=bearer(world["wide"])).status_code == 200
        return [" ".join(s.replace('"', '').split()[:3]) for s in seen]

    first = statements_of([str(world["fresh"].id)])
    small = statements_of([str(world["certified"].id), str(world["fresh"].id)])
    large = statements_of([str(i) for i in range(1, 1001)])
    assert small == large == ["SELECT api_key.id, api_key.prefix,", "SELECT user.id, user.employee_id,",
                              "INSERT INTO api_usage_tally"]
    assert len(first) > len(small)
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(ApiUsageTally.count))) == 3


def test_one_agent_reads_as_its_entry_in_a_batch(client, world):
    """One agent's query runs on the driver's cursor, a batch's through SQLAlchemy: same answers,
    dates included."""
    refs = [str(world["certified"].id), str(world["fresh"].id), "employee:ATL-7", str(world["atlas_agent"].id)]
    batch = client.post("/api/v1/clearance:batch", json={"ids": refs}, headers=bearer(world["wide"])).get_json()
    for ref, entry in zip(refs, batch["results"]):
        one = client.get(f"/api/v1/agents/{ref}/clearance", headers=bearer(world["wide"])).get_json()
        assert entry.pop("found") is True
        assert one["programmes"] and one == entry, ref
    certified = client.get(f"/api/v1/agents/{refs[0]}/clearance", headers=bearer(world["wide"])).get_json()
    assert certified["programmes"][0]["due_at"].endswith("+00:00") and certified["valid_until"].endswith("+00:00")
