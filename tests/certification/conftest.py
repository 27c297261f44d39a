"""A programme made of the fixture course and quiz, and a movable clock."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms import clock
from lms.certification.models import Programme, ProgrammeVersion
from lms.extensions import db
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from tests.assessment.conftest import FIXTURE

START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def at():
    """Move the clock: at(datetime) sets it; the real clock comes back after the test."""
    clock.set_now(START)
    yield clock.set_now
    clock.set_now(None)


def make_programme(slug: str = "recording-cert", *, validity_months: int = 12, window_days: int = 60,
                   grace_days: int = 14, requirements=None) -> Programme:
    spec = {"title": "Recorded lines certification", "description": "Test programme",
            "validity_months": validity_months, "recertification_window_days": window_days,
            "grace_days": grace_days,
            "requirements": requirements or [{"course": "recording-calls"},
                                             {"quiz": "recording-calls", "min_score": 80}]}
    programme = Programme(slug=slug)
    version = ProgrammeVersion(programme=programme, content_hash=f"{slug:0<64}"[:64], title=spec["title"], spec=spec)
    programme.current_version = version
    db.session.add_all([programme, version])
    db.session.flush()
    return programme


@pytest.fixture
def content(app, at):
    load_content(FIXTURE)
    db.session.commit()
    return db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
