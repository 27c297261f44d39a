"""JOBS_RUNNER=celery: jobs and scheduled work run by a real Celery worker on the machine's Redis,
started here and stopped after; and the same task code run eagerly (Celery's always-eager mode)."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import kombu
import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.services import head
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.jobs import schedule, services
from lms.jobs.celery_runner import CeleryRunner
from lms.jobs.models import Job, JobFile, JobState
from lms.jobs.runner import runner_for
from tests import factories
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)
from tests.jobs import worker_kinds
from tests.jobs.test_exports import certified  # noqa: F401 (fixture)
from tests.conftest import csrf_token
from tests.jobs.test_jobs import _client, _job, _job_id, _start

BROKER = "redis://127.0.0.1:6379/13"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"  # the machine's RabbitMQ, as CI has it
BACKOFF = 0.4


@pytest.fixture
def celery_settings(app: Flask, request: pytest.FixtureRequest) -> Iterator[str]:
    """The app sends jobs through the broker (Redis unless the test asks for another) to a queue of
    this test's own, deleted afterwards; the test kinds exist."""
    broker = getattr(request, "param", BROKER)
    queue = f"lms-test-{secrets.token_hex(4)}"
    with kombu.Connection(broker, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=1)  # the brokers are part of the platform: no skipping
    app.config.update(JOBS_RUNNER="celery", CELERY_BROKER_URL=broker, CELERY_QUEUE=queue, JOBS_STALE_SECONDS=2,
                      JOBS_AUTO_RETRIES=2, JOBS_RETRY_BACKOFF_SECONDS=BACKOFF)
    worker_kinds.register()
    yield queue
    worker_kinds.unregister()
    with kombu.Connection(broker) as connection:
        connection.default_channel.queue_delete(queue)


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    path = tmp_path / "gate"
    path.mkdir()
    return path


@pytest.fixture
def worker(app: Flask, celery_settings: str, gate: Path, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start a real `celery worker` process (prefork, one child) on the test's database and queue."""
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log_path = tmp_path / f"worker-{len(started)}.log"
        env = {**os.environ, "LMS_TEST_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
               "CELERY_BROKER_URL": app.config["CELERY_BROKER_URL"], "CELERY_QUEUE": celery_settings, "LMS_TEST_GATE_DIR": str(gate),
               "JOBS_AUTO_RETRIES": str(app.config["JOBS_AUTO_RETRIES"]),
               "JOBS_RETRY_BACKOFF_SECONDS": str(BACKOFF),
               "SIGNING_KEY_PATH": str(app.config["SIGNING_KEY_PATH"]),
               "SIGNING_CERT_PATH": str(app.config["SIGNING_CERT_PATH"])}
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tests.jobs.celery_worker", "worker", "--pool=prefork",
                 "--concurrency=1", "--without-gossip", "--without-mingle", "-Q", celery_settings,
                 "-n", f"{celery_settings}-{len(started)}@%h", "--loglevel=INFO"],
                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text():
            assert process.poll() is None, f"the worker stopped:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"the worker did not start:\n{log_path.read_text()}"
            time.sleep(0.2)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for(predicate: Callable[[], object], timeout: float = 60, what: str = "the job") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _zip_manifest(data: bytes) -> tuple[dict[str, bytes], list[dict[str, str]]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    pdfs = {name: archive.read(name) for name in archive.namelist() if name.endswith(".pdf")}
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    return pdfs, rows


def test_a_real_worker_runs_an_export_once_even_when_its_id_is_delivered_twice(app, certified, worker, at):
    at(None)  # the worker process has the real clock; so must the pages that judge staleness
    worker()
    auditor = factories.user(Role.AUDITOR, scope=certified["partner"])
    db.session.commit()
    client = _client(app, auditor)
    job_id = _job_id(_start(client, certified["partner"].id, kind="certificates_zip"))
    runner = runner_for(app)
    assert isinstance(runner, CeleryRunner)
    runner.submit(job_id)  # a duplicate delivery, as after a lost acknowledgement

    job = _wait_for(lambda: (j := _job(job_id)).state is JobState.SUCCEEDED and j)
    time.sleep(1)  # the duplicate message has been handled by now too
    job = _job(job_id)
    assert job.state is JobState.SUCCEEDED and job.attempts == 1
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "Download certificates-atlas-care.zip" in page
    pdfs, rows = _zip_manifest(job.files[0].data)
    assert len(pdfs) == 2 and {r["sha256"] for r in rows} == {hashlib.sha256(p).hexdigest() for p in pdfs.values()}

    # Scheduled work runs on the same worker: beat would send this every AUDIT_SEAL_SECONDS.
    size_before = head()[0]
    runner.celery.send_task("lms.audit.seal", queue=app.config["CELERY_QUEUE"])
    _wait_for(lambda: head()[0] > size_before, what="the sealer")


def test_a_worker_killed_mid_export_leaves_an_interrupted_job_that_a_retry_completes(app, certified, worker, gate, at):
    at(None)
    worker()
    auditor = factories.user(Role.AUDITOR, scope=certified["partner"])
    db.session.commit()
    client = _client(app, auditor)
    (gate / "hold").touch()
    job = services.request_export(auditor, worker_kinds.GATED, certified["partner"].id)
    db.session.commit()
    job_id = job.id
    runner_for(app).submit(job_id)

    pid = int(_wait_for(lambda: (gate / "pid").exists() and (gate / "pid").read_text(), what="the first certificate"))
    os.kill(pid, signal.SIGKILL)  # the process running the export, mid-way
    (gate / "pid").unlink()

    job = _job(job_id)
    assert job.state is JobState.RUNNING and (job.progress_done, job.progress_total) == (1, 2)
    assert db.session.scalar(select(JobFile).where(JobFile.job_id == job_id)) is None  # nothing half-written

    # No more progress arrives; after JOBS_STALE_SECONDS the page says so and offers a retry.
    time.sleep(app.config["JOBS_STALE_SECONDS"] + 0.5)
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "Interrupted" in page and "This export did not finish." in page and ">Retry</button>" in page
    assert "/files/" not in page
    assert client.get(f"/exports/{job_id}/files/certificates-atlas-care.zip").status_code == 404

    (gate / "hold").unlink()  # the retry runs straight through, in the child the worker forked anew
    token = csrf_token(client, f"/exports/{job_id}")
    assert client.post(f"/exports/{job_id}/retry", data={"csrf_token": token}).status_code == 302
    job = _wait_for(lambda: (j := _job(job_id)).state is JobState.SUCCEEDED and j)
    assert job.attempts == 2
    pdfs, rows = _zip_manifest(job.files[0].data)
    assert sorted(r["agent"] for r in rows) == ["Jonas Øberg", "Yasmine El Idrissi"]
    assert {r["file"]: r["sha256"] for r in rows} == {name: hashlib.sha256(pdf).hexdigest()
                                                     for name, pdf in pdfs.items()}


@pytest.mark.parametrize("celery_settings", [BROKER, RABBITMQ], ids=["redis", "rabbitmq"], indirect=True)
def test_an_error_is_retried_with_backoff_by_a_real_worker_then_fails_readably(app, people, worker):
    worker()
    admin = people["admin"]
    job = services.request_export(admin, worker_kinds.FAILING, people["partner"].id)
    db.session.commit()
    job_id = job.id
    started = time.monotonic()
    runner_for(app).submit(job_id)

    job = _wait_for(lambda: (j := _job(job_id)).state is JobState.FAILED and j)
    # Three runs (one and two retries), waiting BACKOFF then 2 x BACKOFF in between.
    assert job.attempts == 3
    assert time.monotonic() - started >= 3 * BACKOFF
    assert job.error == ("The export stopped because of an unexpected error (RuntimeError). "
                         "The details are in the server log; retrying may help.")
    page = _client(app, admin).get(f"/exports/{job_id}").get_data(as_text=True)
    assert "This export did not finish." in page and "unexpected error (RuntimeError)" in page
    assert ">Retry</button>" in page and "disk is on fire" not in page


# ---- the same tasks, eagerly (no worker) ------------------------------------------------------

@pytest.fixture
def eager_celery(app: Flask, celery_settings: str) -> CeleryRunner:
    runner = runner_for(app)
    assert isinstance(runner, CeleryRunner)
    runner.celery.conf.task_always_eager = True
    return runner


def test_eagerly_an_error_is_retried_and_the_job_page_shows_the_retry_in_between(app, people, eager_celery):
    seen: list[tuple[JobState, str | None]] = []
    pages: list[str] = []
    client = _client(app, people["admin"])
    original = services.run_job

    def watching(job_id: int, retries_left: int = 0):
        job = _job(job_id)
        seen.append((job.state, job.error))
        if job.error:  # what the person watching the export sees while the retry is due
            pages.append(client.get(f"/exports/{job_id}").get_data(as_text=True))
        return original(job_id, retries_left)

    services.run_job = watching
    try:
        job = services.request_export(people["admin"], worker_kinds.FAILING, people["partner"].id)
        db.session.commit()
        eager_celery.submit(job.id)
    finally:
        services.run_job = original
    job = _job(job.id)
    assert job.state is JobState.FAILED and job.attempts == 3
    note = "Run {} stopped because of an error; it is tried again automatically in a moment."
    assert seen == [(JobState.QUEUED, None), (JobState.QUEUED, note.format(1)), (JobState.QUEUED, note.format(2))]
    assert note.format(1) in pages[0] and "Waiting to start" in pages[0] and "did not finish" not in pages[0]


def test_a_job_failed_on_purpose_is_not_retried(app, people, eager_celery, script):
    from lms.jobs.context import JobFailed

    script.fail_with = JobFailed("There is nothing to export for this organisation.")
    job_id = _job_id(_start(_client(app, people["admin"]), people["partner"].id))
    job = _job(job_id)
    assert job.state is JobState.FAILED and job.attempts == 1
    assert job.error == "There is nothing to export for this organisation."


def test_a_broker_that_is_down_leaves_the_job_queued_for_the_hand_over(app, people, celery_settings, script):
    app.config["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    client = _client(app, people["admin"])
    response = _start(client, people["partner"].id)
    job_id = _job_id(response)  # the person gets the job's page, not an error
    assert _job(job_id).state is JobState.QUEUED

    # Once the broker is back, beat's hand-over sends jobs left waiting past the longest backoff.
    app.extensions.pop("lms_jobs_runner")
    app.config["CELERY_BROKER_URL"] = BROKER
    runner = runner_for(app)
    runner.celery.conf.task_always_eager = True
    task = runner.celery.tasks["lms.jobs.hand_over_stranded"]
    task.apply()
    assert _job(job_id).state is JobState.QUEUED  # not stranded yet: it may still be delivered
    db.session.execute(Job.__table__.update().where(Job.id == job_id).values(
        heartbeat_at=_job(job_id).heartbeat_at - schedule.stranded_after(app.config)))
    db.session.commit()
    task.apply()
    job = _job(job_id)
    assert job.state is JobState.SUCCEEDED and job.attempts == 1


def test_beat_schedules_every_periodic_task_from_the_settings(app, celery_settings):
    app.config.update(AUDIT_SEAL_SECONDS=5, ATTEMPTS_CLOSE_SECONDS=90, DAILY_WORK_AT="02:15", XAPI_SEND_SECONDS=30)
    celery = runner_for(app).celery
    beat = celery.conf.beat_schedule
    assert set(beat) == {entry.task_name for entry in schedule.all_periodic() if entry.when(app.config) is not None}
    assert {"lms.audit.seal", "lms.attempts.close_overdue", "lms.jobs.hand_over_stranded", "lms.reminders.send",
            "lms.retention.run", "lms.xapi.send"} <= set(beat)
    assert set(beat) <= set(celery.tasks)
    assert beat["lms.audit.seal"]["schedule"] == 5 and beat["lms.attempts.close_overdue"]["schedule"] == 90
    assert beat["lms.xapi.send"]["schedule"] == 30
    for daily in (beat["lms.reminders.send"]["schedule"], beat["lms.retention.run"]["schedule"]):
        assert (daily.hour, daily.minute) == ({2}, {15})

    app.extensions.pop("lms_jobs_runner")
    app.config["AUDIT_SEAL_SECONDS"] = 0  # off: beat leaves the sealer out
    assert "lms.audit.seal" not in runner_for(app).celery.conf.beat_schedule


def test_a_fresh_process_knows_every_kind_and_scheduled_task_from_create_app_alone():
    """Privacy, roster and xAPI register their kinds and scheduled work with jobs when create_app
    loads them. A worker or beat process imports nothing else, so this asks a fresh interpreter:
    this one may have imported the registering modules some other way (a test's imports)."""
    script = ("from lms import create_app\n"
              "from lms.jobs import kinds\n"
              "from lms.jobs.runner import runner_for\n"
              "app = create_app({'JOBS_RUNNER': 'celery', 'CELERY_BROKER_URL': 'memory://'}, profile='test')\n"
              "print(' '.join(kind.name for kind in kinds.all_kinds()))\n"
              "print(' '.join(kind.name for kind in kinds.export_kinds()))\n"
              "print(' '.join(runner_for(app).celery.tasks))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    all_kinds, export_kinds, tasks = (line.split() for line in done.stdout.splitlines()[-3:])
    assert {"erasure", "roster_import", "xapi_ndjson", "certificates_zip", "evidence_pack",
            "certificate"} <= set(all_kinds)
    assert export_kinds == ["certificates_zip", "evidence_pack"]  # the export form's order
    assert {"lms.jobs.run", "lms.audit.seal", "lms.attempts.close_overdue", "lms.jobs.hand_over_stranded",
            "lms.reminders.send", "lms.retention.run", "lms.xapi.send", "lms.webhooks.send",
            "lms.webhooks.check"} <= set(tasks)
