"""An admin answers an erasure request in the browser: the person's page, the dry run, then the job's report."""
from __future__ import annotations

import re

from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.pseudonyms import pseudonym
from lms.extensions import db
from tests import factories
from tests.browser.conftest import sign_in


def test_an_admin_erases_an_agent_after_a_dry_run(app, page):
    admin = factories.user(Role.ADMIN, email="admin@northwind.example", name="Aoife Byrne")
    agent = factories.user(Role.AGENT, email="rui.costa@lisboa.example", name="Rui Costa")
    db.session.commit()
    sign_in(page, admin.email, factories.PASSWORD)

    page.goto(f"/people/{agent.id}")
    page.get_by_role("link", name="Erase personal data…").click()  # one
    page.get_by_role("heading", name="Erase personal data (Art. 17)").wait_for()
    assert "This is a dry run: nothing has changed yet" in page.content()
    assert page.get_by_role("table").first.get_by_role("cell", name="Sign-in sessions (times, browser)").count() == 1

    # Without the confirmation nothing happens, and the reference typed is kept.
    page.get_by_label("Request reference (optional)").fill("DSR-12")
    page.get_by_role("button", name="Erase Rui Costa's personal data").click()
    page.get_by_text("Tick this to confirm before erasing.").first.wait_for()
    assert page.get_by_label("Request reference (optional)").input_value() == "DSR-12"

    page.get_by_label("I have checked the requester's identity").check()
    page.get_by_role("button", name="Erase Rui Costa's personal data").click()  # two
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    page.get_by_role("link", name=re.compile("erasure-report.txt")).wait_for()

    db.session.expire_all()
    erased = db.session.get(User, agent.id)
    assert erased.name == f"Agent {pseudonym(agent.id)}" and erased.erased_at is not None
    page.goto(f"/people/{agent.id}")
    assert f"Agent {pseudonym(agent.id)}" in page.content() and "Rui Costa" not in page.content()
    assert db.session.scalar(select(User.id).where(User.email == "rui.costa@lisboa.example")) is None
