"""The outbox without an LRS: who is sent, under which identity, claiming, backoff and withholding."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import Role
from lms.clock import now, set_now
from lms.extensions import db
from lms.jobs.models import Job, JobFile, JobState
from lms.xapi import delivery
from lms.xapi.models import OutboxState, XapiStatement
from tests import factories
from tests.xapi.ralph_lrs import free_port
from tests.xapi.scenario import read_course


def _rows(user_id: int | None = None) -> list[XapiStatement]:
    db.session.expire_all()
    query = select(XapiStatement).order_by(XapiStatement.id)
    if user_id is not None:
        query = query.where(XapiStatement.user_id == user_id)
    return list(db.session.scalars(query))


def _nothing_listens(app) -> None:
    app.config.update(XAPI_LRS_URL=f"http://127.0.0.1:{free_port()}/xAPI/", XAPI_LRS_KEY="k", XAPI_LRS_SECRET="s")


def test_actors_are_a_stable_pseudonym_unless_the_organisation_opts_in_to_email(app, content):
    pseudonymous = factories.user(Role.AGENT, factories.organisation("Atlas Care"))
    by_email_org = factories.organisation("Lisboa CS")
    by_email_org.xapi_identify_by_email = True
    by_email = factories.user(Role.AGENT, by_email_org, email="ana@lisboacs.example")
    db.session.commit()
    read_course(pseudonymous)
    read_course(by_email)

    actors = [row.statement["actor"] for row in _rows(pseudonymous.id)]
    assert len(actors) >= 2 and all(actor == actors[0] for actor in actors)  # the same id in every statement
    account = actors[0]["account"]
    assert account["homePage"] == app.config["BASE_URL"]
    assert len(account["name"]) == 32 and pseudonymous.email not in json.dumps(actors)
    assert account["name"] not in (str(pseudonymous.id), f"P-{pseudonymous.id:04X}")
    # Another key gives other pseudonyms: without the key, the LRS cannot link them to people.
    app.config["XAPI_PSEUDONYM_KEY"] = "another key"
    from lms.xapi.statements import pseudonym

    assert pseudonym(pseudonymous.id) != account["name"]

    assert {json.dumps(row.statement["actor"]) for row in _rows(by_email.id)} == {
        json.dumps({"objectType": "Agent", "mbox": "mailto:ana@lisboacs.example"})}


def test_restricted_and_erased_people_are_never_queued(app, content):
    restricted, erased = factories.user(Role.AGENT), factories.user(Role.AGENT)
    restricted.restricted_at = erased.erased_at = now()
    db.session.commit()
    read_course(restricted)
    read_course(erased)
    assert _rows() == []


def test_restricted_after_queueing_is_withheld_at_send_and_left_out_of_exports(app, content, client, login_as):
    _nothing_listens(app)
    agent = factories.user(Role.AGENT)
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    read_course(agent)
    queued = _rows()
    agent.restricted_at = now()
    db.session.commit()

    report = delivery.send_pending()
    assert (report.delivered, report.failed, report.withheld) == (0, 0, len(queued))
    for row in _rows():
        assert row.state is OutboxState.WITHHELD
        assert row.statement == {"id": row.statement_id}  # what they learned is not kept for sending either

    login_as(admin)
    day = now().date().isoformat()
    from tests.conftest import csrf_token

    response = client.post("/admin/xapi/export", data={"date_from": day, "date_to": day,
                                                        "csrf_token": csrf_token(client, "/admin/xapi")})
    assert response.status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert job.state is JobState.SUCCEEDED
    assert db.session.scalars(select(JobFile.data).where(JobFile.job_id == job.id)).one() == b""


def test_a_failed_send_backs_off_exponentially_then_waits_for_retry(app, content):
    _nothing_listens(app)
    app.config.update(XAPI_RETRY_SECONDS=30, XAPI_MAX_ATTEMPTS=3)
    agent = factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    start = now()
    waits = []
    for attempt in range(1, 4):
        report = delivery.send_pending()
        assert report.failed == len(_rows()) and report.delivered == 0
        row = _rows()[0]
        assert row.state is OutboxState.FAILED and row.attempts == attempt
        assert "could not be reached" in row.last_error
        if row.next_try_at is not None:
            waits.append(round((row.next_try_at - now()).total_seconds()))
            set_now(row.next_try_at + timedelta(seconds=1))
    assert waits == [30, 60]
    assert _rows()[0].next_try_at is None  # the third failure was the last automatic try
    set_now(start + timedelta(days=30))
    assert delivery.send_pending().failed == 0  # nothing is due any more


def test_two_runs_at_once_never_claim_the_same_statement(app, content):
    _nothing_listens(app)
    agent = factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    total = len(_rows())
    first = delivery.claim_batch(1)
    second = delivery.claim_batch(100)
    assert len(first) == 1 and len(second) == total - 1
    assert {row.id for row in first}.isdisjoint(row.id for row in second)
    assert delivery.claim_batch(100) == []  # everything is held by a run
    # A run that died: its rows are taken over once the claim is old.
    set_now(now() + delivery.CLAIM_EXPIRES + timedelta(seconds=1))
    assert len(delivery.claim_batch(100)) == total


def test_without_an_lrs_the_cli_says_so_and_statements_wait(app, content, runner):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    result = runner.invoke(args=["lms", "xapi", "send"])
    assert "no LRS configured (XAPI_LRS_URL)" in result.output
    assert {row.state for row in _rows()} == {OutboxState.QUEUED}


def test_the_delivery_is_scheduled_for_beat(app):
    from lms.jobs.schedule import beat_schedule

    assert beat_schedule(app.config)["lms.xapi.send"]["schedule"] == app.config["XAPI_SEND_SECONDS"]
    assert "lms.xapi.send" not in beat_schedule({**app.config, "XAPI_SEND_SECONDS": 0})


def test_erasure_drops_the_content_of_every_statement_and_sends_none_of_those_left(app, content):
    from lms.privacy.erasure import erase, plan

    _nothing_listens(app)
    org = factories.organisation("Lisboa CS")
    org.xapi_identify_by_email = True
    agent = factories.user(Role.AGENT, org, email="ana@lisboacs.example")
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    read_course(agent)
    rows = _rows(agent.id)
    delivered, waiting = rows[0], rows[1:]
    delivered.state = OutboxState.DELIVERED
    db.session.commit()
    entry = next(e for e in plan(agent).goes if e.what.startswith("xAPI statements"))
    assert entry.count == len(rows)

    erase(agent, requested_by=admin)
    db.session.commit()
    for row in _rows(agent.id):
        assert row.statement == {"id": row.statement_id}
        assert row.state is (OutboxState.DELIVERED if row.id == delivered.id else OutboxState.WITHHELD)
    assert "ana@lisboacs.example" not in json.dumps([row.statement for row in _rows()])
    assert waiting and delivery.send_pending().delivered == 0
