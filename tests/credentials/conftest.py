"""A certified agent whose award issued an Open Badge, with issuer keys of the test's own."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.certification import services
from lms.certification.models import Award
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from tests import factories
from tests.assessment.conftest import best_form
from tests.certification.conftest import at, content, make_programme  # noqa: F401 (fixtures)
from tests.certification.test_cycle import _read_course, _take_quiz

SCHEMA = json.loads((Path(__file__).parent / "ob_v3p0_achievementcredential_schema.json").read_text())


@pytest.fixture
def badge_keys(app, tmp_path: Path):
    """The issuer key and the PDF signing pair under tmp_path (a fresh clone has neither)."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None, SIGNING_KEY_ID=None,
                      BADGE_KEY_PATH=tmp_path / "signing" / "badge.pem", BASE_URL="https://academy.example")
    return tmp_path / "signing"


@pytest.fixture
def certified(app, content, at, badge_keys):
    """An agent of a partner who has just earned the programme, by reading and passing the quiz."""
    partner = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, partner, name="Yasmine El Idrissi", email="yasmine@atlascare.example")
    programme = make_programme()
    services.assign(None, programme, organisation_id=partner.id, due_days=14)
    _read_course(agent)
    db.session.commit()
    _take_quiz(agent, content, best_form)
    award = db.session.scalars(select(Award)).one()
    return {"agent": agent, "award": award, "partner": partner}
