"""The app a test's real Celery worker loads: `celery -A tests.jobs.celery_worker worker`.

The same as lms.jobs.worker, with the test profile, the test's database and broker settings from
the environment the fixture gives it, and the job kinds of tests/jobs/worker_kinds.py.
"""
from __future__ import annotations

import os

from lms import create_app
from lms.jobs.runner import runner_for
from tests.jobs import worker_kinds

flask_app = create_app({
    "SQLALCHEMY_DATABASE_URI": os.environ["LMS_TEST_DATABASE_URI"],
    "JOBS_RUNNER": "celery",
    "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
    "CELERY_QUEUE": os.environ["CELERY_QUEUE"],
    "JOBS_AUTO_RETRIES": int(os.environ["JOBS_AUTO_RETRIES"]),
    "JOBS_RETRY_BACKOFF_SECONDS": float(os.environ["JOBS_RETRY_BACKOFF_SECONDS"]),
    "SIGNING_KEY_PATH": os.environ["SIGNING_KEY_PATH"],
    "SIGNING_CERT_PATH": os.environ["SIGNING_CERT_PATH"],
    "SIGNING_KEY_PASSPHRASE": None,
    "SIGNING_KEY_ID": None,
}, profile="test")
worker_kinds.register()
celery = runner_for(flask_app).celery
