"""Jobs: files only with success, failures that say why, retry, progress, runners, scope, audit."""
from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import create_engine, func, select, update

from lms.audit.models import AuditEvent
from lms.clock import now
from lms.evidence.signing import SigningError
from lms.extensions import db
from lms.jobs import services
from lms.jobs.context import JobFailed, OutputFile
from lms.jobs.models import Job, JobFile, JobState
from lms.jobs.runner import submit
from tests import factories
from tests.conftest import csrf_token, error_links, login


def _client(app: Flask, user):
    client = app.test_client()
    assert login(client, user.email, factories.PASSWORD).status_code == 302
    return client


def _start(client, organisation_id: int, kind: str = "test_kind", **extra):
    token = csrf_token(client, "/exports")
    return client.post("/exports", data={"kind": kind, "organisation_id": organisation_id, "csrf_token": token,
                                         **extra})


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(response.location.rstrip("/").split("/")[-1])


def _other_session_sees(app: Flask):
    """A query on a connection of its own: what another process would see, committed rows only."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def count(model, job_id: int) -> int:
        column = model.job_id if model is JobFile else model.id
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model).where(column == job_id))
    return engine, count


def test_a_job_that_succeeds_stores_its_files_with_its_success_and_not_before(app, people, script):
    engine, count = _other_session_sees(app)
    observed = []
    script.seen.append(lambda ctx: observed.append((count(JobFile, ctx.job_id),
                                                    _state_elsewhere(engine, ctx.job_id))))
    client = _client(app, people["trainer"])
    job = _job(_job_id(_start(client, people["partner"].id)))
    engine.dispose()
    # While it ran, others saw it running with its progress committed, and no file at all.
    assert observed == [(0, "running"), (0, "running")]
    assert job.state is JobState.SUCCEEDED and job.attempts == 1 and job.error is None
    assert (job.progress_done, job.progress_total, job.percent) == (2, 2, 100)
    assert job.started_at is not None and job.finished_at is not None
    files = {f.name: f for f in job.files}
    assert set(files) == {"report.txt", "data.json"}
    assert files["report.txt"].data == f"organisation {people['partner'].id}".encode()
    assert files["report.txt"].sha256 == hashlib.sha256(files["report.txt"].data).hexdigest()
    assert files["data.json"].size == len(b'{"ok": true}')
    page = client.get(f"/exports/{job.id}").get_data(as_text=True)
    assert "Ready" in page and f"/exports/{job.id}/files/report.txt" in page and "Retry" not in page


def _state_elsewhere(engine, job_id: int) -> str:
    with engine.connect() as connection:
        return connection.scalar(select(Job.__table__.c.state).where(Job.__table__.c.id == job_id))


def test_a_failing_job_keeps_no_file_says_why_and_a_retry_succeeds(app, people, script):
    script.fail_with = JobFailed("Atlas Care has no certificates yet.")
    client = _client(app, people["trainer"])
    job_id = _job_id(_start(client, people["partner"].id))
    job = _job(job_id)
    assert job.state is JobState.FAILED and job.files == [] and job.progress_done == 2  # it got that far
    assert job.error == "Atlas Care has no certificates yet."
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "This export did not finish." in page and "Atlas Care has no certificates yet." in page
    assert ">Retry</button>" in page and "/files/" not in page
    assert client.get(f"/exports/{job_id}/files/report.txt").status_code == 404
    assert client.get(f"/exports/{job_id}/status").get_json()["state"] == "failed"

    script.fail_with = None
    token = csrf_token(client, f"/exports/{job_id}")
    assert client.post(f"/exports/{job_id}/retry", data={"csrf_token": token}).status_code == 302
    job = _job(job_id)
    assert job.state is JobState.SUCCEEDED and job.attempts == 2 and job.error is None
    assert [f.name for f in job.files] == ["report.txt", "data.json"]
    # The same job, run again: one row, and the audit log tells the story.
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("export.%"))
                                      .order_by(AuditEvent.seq)))
    assert actions == ["export.requested", "export.retried"]
    # A job that succeeded is not retried.
    assert client.post(f"/exports/{job_id}/retry", data={"csrf_token": token}).status_code == 302
    assert _job(job_id).attempts == 2


def test_an_unexpected_error_is_told_without_internals_and_logged_in_full(app, people, script, caplog):
    script.fail_with = KeyError("password_hash at /srv/app/lms/secret.py")
    client = _client(app, people["trainer"])
    job = _job(_job_id(_start(client, people["partner"].id)))
    assert job.state is JobState.FAILED and job.files == []
    assert "unexpected error (KeyError)" in job.error and "secret.py" not in job.error
    assert "secret.py" in caplog.text and "Traceback" in caplog.text


def test_a_pdf_that_cannot_be_signed_is_told_without_the_servers_paths(app, people, script):
    script.fail_with = SigningError("Cannot read the signing key: /srv/keys/key.pem")
    client = _client(app, people["scoped"])
    job = _job(_job_id(_start(client, people["partner"].id)))
    assert job.state is JobState.FAILED and "could not be produced or signed" in job.error
    assert "/srv/keys" not in job.error
    assert "/srv/keys" not in client.get(f"/exports/{job.id}").get_data(as_text=True)


def test_progress_moves_while_the_thread_runner_works_in_another_thread(app, people, script, thread_runner):
    script.steps = 3
    script.gate = threading.Event()
    client = _client(app, people["auditor"])
    job_id = _job_id(_start(client, people["partner"].id))
    seen = []
    for _ in range(3):
        assert script.step_reached.wait(10)
        script.step_reached.clear()
        seen.append(client.get(f"/exports/{job_id}/status").get_json())
        script.gate.set()
    assert thread_runner.wait(10)
    assert [(s["state"], s["done"], s["total"]) for s in seen] == [("running", 0, 3), ("running", 1, 3),
                                                                     ("running", 2, 3)]
    final = client.get(f"/exports/{job_id}/status").get_json()
    # The status holds state and progress only: no file, no parameter, no person.
    assert final == {"state": "succeeded", "done": 3, "total": 3, "percent": 100, "error": None}
    assert script.threads and script.threads[0] != threading.get_ident()


def test_the_eager_runner_runs_in_the_calling_thread(app, people, script):
    assert app.config["JOBS_RUNNER"] == "eager"
    job = services.request_export(people["admin"], "test_kind", people["other"].id)
    db.session.commit()
    submit(job.id)
    assert script.threads == [threading.get_ident()]
    assert _job(job.id).state is JobState.SUCCEEDED


def test_an_interrupted_job_shows_as_failed_and_can_be_retried(app, people, script, runner):
    app.config["JOBS_RUNNER"] = "external"  # nothing runs it: as after a restart
    client = _client(app, people["trainer"])
    job_id = _job_id(_start(client, people["partner"].id))
    assert _job(job_id).state is JobState.QUEUED
    assert client.get(f"/exports/{job_id}/status").get_json()["state"] == "queued"
    # It was claimed by a worker that then died: running, no heartbeat for longer than allowed.
    db.session.execute(update(Job).where(Job.id == job_id).values(
        state=JobState.RUNNING, attempts=1, heartbeat_at=now() - timedelta(seconds=app.config["JOBS_STALE_SECONDS"] + 1)))
    db.session.commit()
    status = client.get(f"/exports/{job_id}/status").get_json()
    assert status["state"] == "failed" and "interrupted" in status["error"]
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "Interrupted" in page and ">Retry</button>" in page

    result = runner.invoke(args=["lms", "jobs", "run-pending"])
    assert result.exit_code == 0, result.output
    assert "1 interrupted job(s) marked failed" in result.output and "0 queued job(s) run." in result.output
    assert _job(job_id).state is JobState.FAILED

    token = csrf_token(client, f"/exports/{job_id}")
    client.post(f"/exports/{job_id}/retry", data={"csrf_token": token})
    assert _job(job_id).state is JobState.QUEUED  # the external runner leaves it for a worker
    result = runner.invoke(args=["lms", "jobs", "run-pending"])
    assert f"Job {job_id}: succeeded." in result.output
    job = _job(job_id)
    assert job.state is JobState.SUCCEEDED and job.attempts == 2 and len(job.files) == 2


def test_a_superseded_run_cannot_finish_the_newer_one(app, people):
    job = services.request_export(people["admin"], "certificates_zip", people["partner"].id)
    db.session.commit()
    first = services.claim(job.id)
    assert services.claim(job.id) is None  # a second worker cannot take it too
    db.session.execute(update(Job).where(Job.id == job.id).values(state=JobState.QUEUED))  # declared lost, retried
    db.session.commit()
    second = services.claim(job.id)
    assert (first, second) == (1, 2)
    assert services._finish_succeeded(job.id, first, [OutputFile("x.zip", "application/zip", b"old")]) is None
    assert _job(job.id).state is JobState.RUNNING and _job(job.id).files == []


def test_scope_decides_who_exports_and_who_sees_a_job(app, people, script):
    scoped = _client(app, people["scoped"])
    # The form offers the partner only, and another organisation is a 404 even when posted by hand.
    form = scoped.get("/exports").get_data(as_text=True)
    assert "Atlas Care" in form and "Lisboa CS" not in form and "Northwind" not in form
    assert _start(scoped, people["other"].id).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    own = _job_id(_start(scoped, people["partner"].id))

    admin = _client(app, people["admin"])
    other_org_job = _job_id(_start(admin, people["other"].id))
    trainer = _client(app, people["trainer"])
    trainers_job = _job_id(_start(trainer, people["partner"].id))
    for url in (f"/exports/{other_org_job}", f"/exports/{other_org_job}/status",
                f"/exports/{other_org_job}/files/report.txt", f"/exports/{trainers_job}"):
        assert scoped.get(url).status_code == 404, url
    assert scoped.get(f"/exports/{own}/files/report.txt").status_code == 200
    # Another trainer sees only their own; the admin sees every job.
    other_trainer = _client(app, people["other_trainer"])
    assert other_trainer.get(f"/exports/{trainers_job}").status_code == 404
    listing = admin.get("/exports").get_data(as_text=True)
    assert all(f"/exports/{job_id}\"" in listing for job_id in (own, other_org_job, trainers_job))
    assert f"/exports/{own}\"" not in trainer.get("/exports").get_data(as_text=True)

    agent = _client(app, people["agent"])
    assert agent.get("/exports").status_code == 403
    assert agent.get(f"/exports/{own}/files/report.txt").status_code == 403


def test_requests_and_downloads_are_audit_events(app, people, script):
    client = _client(app, people["scoped"])
    job_id = _job_id(_start(client, people["partner"].id))
    response = client.get(f"/exports/{job_id}/files/data.json")
    assert response.status_code == 200 and response.data == b'{"ok": true}'
    assert response.headers["Content-Disposition"] == 'attachment; filename="data.json"'
    sha = hashlib.sha256(b'{"ok": true}').hexdigest()
    assert response.headers["X-Content-SHA256"] == sha
    events = {e.action: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%")))}
    requested, downloaded = events["export.requested"], events["export.downloaded"]
    assert requested.actor_id == downloaded.actor_id == people["scoped"].id
    assert requested.data == {"job_id": job_id, "kind": "test_kind", "organisation_id": people["partner"].id,
                              "params": {}}
    assert downloaded.data == {"job_id": job_id, "kind": "test_kind", "organisation_id": people["partner"].id,
                               "file": "data.json", "sha256": sha}


def test_without_javascript_the_page_refreshes_itself_while_the_job_runs(app, people, script):
    app.config["JOBS_RUNNER"] = "external"
    client = _client(app, people["trainer"])
    job_id = _job_id(_start(client, people["partner"].id))
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in page and ">Refresh</a>" in page
    assert "<progress" in page and "js/exports.js" in page and "<script>" not in page


def test_the_form_refuses_an_end_before_the_start(app, people, script):
    client = _client(app, people["trainer"])
    response = _start(client, people["partner"].id, kind="evidence_pack", date_from="2026-03-01",
                      date_to="2026-02-01")
    assert response.status_code == 200 and "The end date is before the start date." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_form_chooses_nothing_in_advance_and_asks_for_what_is_missing(app, people, script):
    client = _client(app, people["trainer"])
    form = client.get("/exports").get_data(as_text=True)
    assert 'type="radio"' in form and " checked" not in form
    assert re.search(r'<option selected value="">Choose…</option>', form)
    token = csrf_token(client, "/exports")
    response = client.post("/exports", data={"csrf_token": token, "organisation_id": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose what to export." in page and "Choose the organisation to export." in page
    assert error_links(page) == {"kind": True, "organisation_id": True}
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    # A scoped auditor has one organisation to export: no choice to make.
    scoped = _client(app, people["scoped"]).get("/exports").get_data(as_text=True)
    assert re.search(r'name="organisation_id"><option value="\d+">Atlas Care</option></select>', scoped)


def test_the_eager_runner_uses_a_session_of_its_own(app, people, script):
    sessions = []
    script.seen.append(lambda ctx: sessions.append(db.session()))
    job = services.request_export(people["admin"], "test_kind", people["other"].id)
    db.session.commit()
    submit(job.id)
    assert sessions and all(s is not db.session() for s in sessions)
