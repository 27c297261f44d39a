"""Two organisations with agents in every state that matters for clearance, and API keys."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import OrganisationKind, Role
from lms.api import keys
from lms.certification import services
from lms.certification.models import Award, Enrolment
from lms.extensions import db
from tests import factories
from tests.certification.conftest import START, at, make_programme  # noqa: F401

MONTH = timedelta(days=30)


def certify(agent, programme, issued_at, months: int = 12) -> Award:
    """An award as the certification service issues it (a factory: the path to earning one is
    tested in tests/certification)."""
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == agent.id,
                                                          Enrolment.programme_id == programme.id))
    valid_until = issued_at + months * MONTH
    award = Award(user_id=agent.id, programme_id=programme.id, programme_version_id=programme.current_version_id,
                  issued_at=issued_at, valid_until=valid_until, window_opens_at=valid_until - timedelta(days=60),
                  grace_until=valid_until + timedelta(days=14), verification_code=services.new_verification_code(),
                  evidence={})
    db.session.add(award)
    db.session.flush()
    enrolment.current_award = award
    services.refresh_snapshot(enrolment)
    return award


@pytest.fixture
def world(app, at):  # noqa: F811
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    atlas = factories.organisation("Atlas")
    admin = factories.user(Role.ADMIN, client_org)
    programme = make_programme()
    second = make_programme("call-recording-2")
    services.assign(admin, programme, organisation_id=client_org.id, due_at=START + timedelta(days=30))
    services.assign(admin, programme, organisation_id=atlas.id, due_at=START + timedelta(days=30))
    services.assign(admin, second, organisation_id=atlas.id, due_at=START + timedelta(days=30), mandatory=False)
    certified = factories.user(Role.AGENT, client_org)
    fresh = factories.user(Role.AGENT, client_org)
    atlas_agent = factories.user(Role.AGENT, atlas)
    atlas_agent.employee_id = "ATL-7"
    services.sync_enrolments()
    award = certify(certified, programme, START - 2 * MONTH)
    atlas_award = certify(atlas_agent, programme, START - 11 * MONTH)  # in its recertification window
    wide, wide_token = keys.create_key(admin, "Workforce management", ["clearance:read", "awards:read", "jobs:read"],
                                       None)
    scoped, scoped_token = keys.create_key(admin, "Atlas telephony", ["clearance:read", "awards:read", "jobs:read"],
                                           atlas)
    db.session.commit()
    return {"admin": admin, "client": client_org, "atlas": atlas, "programme": programme, "second": second,
            "certified": certified, "fresh": fresh, "atlas_agent": atlas_agent, "award": award,
            "atlas_award": atlas_award, "wide": wide_token, "scoped": scoped_token, "wide_key": wide,
            "scoped_key": scoped}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
