"""A receiver per test, and an organisation with an agent holding an award."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from lms.accounts.models import OrganisationKind, Role
from lms.certification import services
from lms.extensions import db
from tests import factories
from tests.api.conftest import certify
from tests.certification.conftest import START, at, make_programme  # noqa: F401
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def world(app, at):  # noqa: F811
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    atlas = factories.organisation("Atlas")
    admin = factories.user(Role.ADMIN, client_org)
    programme = make_programme()
    services.assign(admin, programme, organisation_id=atlas.id, due_at=START + timedelta(days=30))
    agent = factories.user(Role.AGENT, atlas)
    agent.employee_id = "ATL-7"
    services.sync_enrolments()
    db.session.commit()
    return {"admin": admin, "client": client_org, "atlas": atlas, "programme": programme, "agent": agent,
            "certify": certify}
