"""The Celery application that workers and beat load (JOBS_RUNNER=celery, CELERY_BROKER_URL):

    celery -A lms.jobs.worker worker --loglevel=INFO      # one or more, on any machine
    celery -A lms.jobs.worker beat --loglevel=INFO        # exactly one, for the schedules

Settings come from the environment, as for the web app.
"""
from __future__ import annotations

from lms import create_app
from lms.config import ConfigError
from lms.jobs.celery_runner import CeleryRunner
from lms.jobs.runner import runner_for

flask_app = create_app()
_runner = runner_for(flask_app)
if not isinstance(_runner, CeleryRunner):
    raise ConfigError("Celery workers need JOBS_RUNNER=celery and CELERY_BROKER_URL")
celery = _runner.celery
