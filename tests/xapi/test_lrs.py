"""Against Ralph, a real LRS that validates what it receives: every kind of statement is stored
and can be queried back; a stopped LRS leaves statements queued with backoff until it is back."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.clock import now, set_now
from lms.extensions import db
from lms.xapi import statements
from lms.xapi.models import OutboxState, XapiStatement
from tests.xapi.scenario import learn_everything


def _rows() -> list[XapiStatement]:
    db.session.expire_all()
    return list(db.session.scalars(select(XapiStatement).order_by(XapiStatement.id)))


def test_every_kind_of_statement_is_accepted_by_ralph_and_queried_back(app, content, lrs, runner):
    passing, failing, award = learn_everything(content)
    rows = _rows()
    assert {row.kind for row in rows} == set(statements.KINDS)  # all eight kinds were written
    assert all(row.state is OutboxState.QUEUED for row in rows)

    result = runner.invoke(args=["lms", "xapi", "send"])
    assert result.exit_code == 0, result.output
    assert f"delivered {len(rows)} xAPI statement(s), 0 failed" in result.output

    rows = _rows()
    assert {row.state for row in rows} == {OutboxState.DELIVERED}
    for row in rows:
        stored = lrs.statement(row.statement_id)
        assert stored["id"] == row.statement_id
        assert stored["verb"]["id"] == row.statement["verb"]["id"]
        assert stored["object"]["id"] == row.statement["object"]["id"]
        assert stored["actor"] == row.statement["actor"]
        assert stored["context"]["extensions"] == row.statement["context"]["extensions"]
        assert stored.get("result") == row.statement.get("result")

    by_kind = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row.statement)
    base = app.config["BASE_URL"].rstrip("/")
    lesson = by_kind["lesson_experienced"][0]
    assert lesson["verb"]["id"] == "http://adlnet.gov/expapi/verbs/experienced"
    assert lesson["object"]["id"].startswith(f"{base}/xapi/courses/recording-calls/lessons/")
    assert len(lesson["context"]["extensions"][f"{base}/xapi/extensions/content-version"]) == 64
    answered = by_kind["question_answered"]
    # Four plain questions in each of the two attempts, each with the agent's response.
    assert len(answered) == 8 and all(s["result"]["response"] for s in answered)
    assert {s["object"]["definition"]["interactionType"] for s in answered} <= {"choice", "true-false", "sequencing"}
    path = by_kind["simulation_path"][0]
    assert path["result"]["response"]
    assert path["result"]["extensions"][f"{base}/xapi/extensions/path"] == path["result"]["response"].split("[,]")
    assert path["object"]["definition"]["type"] == statements.SIMULATION_TYPE
    passed, failed = by_kind["quiz_passed"][0], by_kind["quiz_failed"][0]
    assert passed["result"]["success"] is True and passed["result"]["score"]["scaled"] == 1.0
    assert failed["result"]["success"] is False
    # One registration ties an attempt's statements together.
    attempt_regs = {s["context"]["registration"] for s in by_kind["quiz_attempted"]}
    assert passed["context"]["registration"] in attempt_regs
    assert by_kind["certificate_revoked"][0]["result"]["extensions"][
        f"{base}/xapi/extensions/revocation-reason"] == "Shared answers with a colleague"

    # Queried back by agent too: the passing agent's statements, and none of the failing one's.
    passing_actor = next(row.statement["actor"] for row in rows if row.user_id == passing.id)
    assert passing_actor["account"]["name"] not in (passing.email, str(passing.id))
    mine = lrs.get(agent=_json(passing_actor), limit="500")["statements"]
    assert {s["id"] for s in mine} >= {row.statement_id for row in rows if row.user_id == passing.id}
    assert all(s["actor"] == passing_actor for s in mine)


def _json(value) -> str:
    import json

    return json.dumps(value)


def test_statements_wait_with_backoff_while_the_lrs_is_down_and_go_when_it_is_back(app, content, lrs, runner):
    from tests.xapi.scenario import read_course
    from tests import factories
    from lms.accounts.models import Role

    app.config.update(XAPI_RETRY_SECONDS=60)
    agent = factories.user(Role.AGENT)
    db.session.commit()
    lrs.stop()
    read_course(agent)
    queued = _rows()
    assert queued

    result = runner.invoke(args=["lms", "xapi", "send"])
    assert f"delivered 0 xAPI statement(s), {len(queued)} failed" in result.output
    started = now()
    for row in _rows():
        assert row.state is OutboxState.FAILED and row.attempts == 1
        assert "could not be reached" in row.last_error
        assert abs((row.next_try_at - (started + timedelta(seconds=60))).total_seconds()) < 5

    # Not due yet: a run now sends nothing and counts no further failure.
    runner.invoke(args=["lms", "xapi", "send"])
    assert {row.attempts for row in _rows()} == {1}

    # Due again, still down: the wait doubles.
    set_now(started + timedelta(seconds=61))
    runner.invoke(args=["lms", "xapi", "send"])
    for row in _rows():
        assert row.attempts == 2
        assert abs((row.next_try_at - (started + timedelta(seconds=61 + 120))).total_seconds()) < 5

    lrs.start()
    set_now(started + timedelta(seconds=61 + 121))
    result = runner.invoke(args=["lms", "xapi", "send"])
    assert f"delivered {len(queued)} xAPI statement(s)" in result.output
    for row in _rows():
        assert row.state is OutboxState.DELIVERED and row.last_error is None
        assert lrs.statement(row.statement_id)["id"] == row.statement_id


def test_sending_a_statement_again_delivers_it_once(app, content, lrs, runner):
    """A run that died after the LRS stored its batch sends it again: the LRS keeps one copy."""
    from tests.xapi.scenario import read_course
    from tests import factories
    from lms.accounts.models import Role

    agent = factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    runner.invoke(args=["lms", "xapi", "send"])
    row = _rows()[0]
    assert row.state is OutboxState.DELIVERED
    # As if the run had died before recording the outcome: claimed long ago, still "sending".
    row.state, row.claim, row.claimed_at = OutboxState.SENDING, "dead-run", now() - timedelta(hours=1)
    db.session.commit()
    result = runner.invoke(args=["lms", "xapi", "send"])
    assert "delivered 1 xAPI statement(s), 0 failed" in result.output
    assert _rows()[0].state is OutboxState.DELIVERED
    found = lrs.get(agent=_json(row.statement["actor"]), limit="500")["statements"]
    assert [s["id"] for s in found].count(row.statement_id) == 1, found


def test_with_the_thread_runner_each_web_process_sends_on_its_own(app, content, lrs, client):
    """`make run` (JOBS_RUNNER=thread): the first request starts a delivery run every XAPI_SEND_SECONDS."""
    import time

    from tests.xapi.scenario import read_course
    from tests import factories
    from lms.accounts.models import Role

    agent = factories.user(Role.AGENT)
    db.session.commit()
    read_course(agent)
    app.config.update(JOBS_RUNNER="thread", XAPI_SEND_SECONDS=0.2)
    client.get("/login")
    stop = app.extensions["lms_xapi_sender"]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(row.state is not OutboxState.DELIVERED for row in _rows()):
            time.sleep(0.2)
        rows = _rows()
        assert rows and {row.state for row in rows} == {OutboxState.DELIVERED}
        assert lrs.statement(rows[0].statement_id)["id"] == rows[0].statement_id
    finally:
        stop.set()
