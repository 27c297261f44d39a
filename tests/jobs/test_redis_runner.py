"""JOBS_RUNNER=redis: the web app queues job ids in Redis, a worker process (here a second
app instance, as `lms jobs worker` would be) pops and runs them."""
from __future__ import annotations

import secrets
import threading

import pytest
import redis
from flask import Flask

from lms.config import ConfigError
from lms.extensions import db
from lms.jobs.models import JobState
from lms.jobs.runner import RedisRunner, runner_for
from tests.conftest import make_app
from tests.jobs.test_jobs import _client, _job, _job_id, _start

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def queue(app: Flask):
    """A queue name of this test's own on the machine's Redis, removed afterwards."""
    name = f"lms:test-jobs:{secrets.token_hex(4)}"
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()  # Redis is part of the platform (CI starts it): no skipping
    app.config.update(JOBS_RUNNER="redis", REDIS_URL=REDIS_URL, JOBS_REDIS_QUEUE=name)
    yield name
    connection.delete(name)


def test_a_worker_process_runs_what_the_web_app_queued(app: Flask, people, script, queue):
    auditor = _client(app, people["scoped"])
    job_id = _job_id(_start(auditor, people["partner"].id))
    # The web app only queued it: nothing ran in its process.
    assert _job(job_id).state is JobState.QUEUED and script.threads == []
    assert redis.Redis.from_url(REDIS_URL).lrange(queue, 0, -1) == [str(job_id).encode()]

    worker_app = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], JOBS_RUNNER="redis",
                          REDIS_URL=REDIS_URL, JOBS_REDIS_QUEUE=queue)
    worker = runner_for(worker_app)
    assert isinstance(worker, RedisRunner)
    ran: list[int] = []
    thread = threading.Thread(target=lambda: ran.append(worker.work(max_jobs=1, idle_timeout=1)))
    thread.start()
    thread.join(30)
    with worker_app.app_context():
        db.engine.dispose()  # the worker's own connections, closed now rather than by the collector
    assert ran == [1] and script.threads and script.threads[0] == thread.ident

    job = _job(job_id)
    assert job.state is JobState.SUCCEEDED and {f.name for f in job.files} == {"report.txt", "data.json"}
    page = auditor.get(f"/exports/{job_id}").get_data(as_text=True)
    assert f'href="/exports/{job_id}/files/report.txt"' in page


def test_an_id_delivered_twice_runs_once(app: Flask, people, script, queue):
    job_id = _job_id(_start(_client(app, people["admin"]), people["partner"].id))
    runner = runner_for(app)
    runner.submit(job_id)  # a duplicate delivery, as after a worker restart
    assert runner.work(max_jobs=2, idle_timeout=1) == 2
    job = _job(job_id)
    assert job.state is JobState.SUCCEEDED and job.attempts == 1 and len(script.threads) == 1


def test_the_redis_runner_needs_a_redis_url(app: Flask):
    app.config.update(JOBS_RUNNER="redis", REDIS_URL="")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        runner_for(app)
