"""The fixture course and quiz loaded, and a movable clock (programmes: tests.factories.programme)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms import clock
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from tests.assessment.conftest import FIXTURE
# Tests in other folders still import the programme factory from here by this name.
from tests.factories import programme as make_programme  # noqa: F401

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def at():
    """Move the clock: at(datetime) sets it; the real clock comes back after the test."""
    clock.set_now(START)
    yield clock.set_now
    clock.set_now(None)


@pytest.fixture
def content(app, at):
    load_content(FIXTURE)
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
