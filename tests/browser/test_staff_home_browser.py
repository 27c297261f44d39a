"""Staff pages in Chromium (#19): a trainer's home answers "who needs chasing this week" without a
click; the dashboard sorts from its headers and folds its filters into a drawer on a phone; the
audit log's details open from each sentence."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from lms import clock
from lms.certification.models import Enrolment
from lms.extensions import db
from tests import factories
from tests.browser.conftest import sign_in
from tests.staff_world import AT, World, build

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app) -> Iterator[World]:
    clock.set_now(AT)  # the live server runs in this process, on the same clock
    built = build()
    db.session.commit()
    yield built
    clock.set_now(None)


def due_date(agent) -> str:
    """The agent's earliest due date as a UTC reader's pages write it (the |date filter, en_IE)."""
    due = db.session.scalars(select(Enrolment.next_due_at).where(Enrolment.user_id == agent.id)
                             .order_by(Enrolment.next_due_at)).first()
    return format_date(due, "medium", locale="en_IE")


def test_a_trainers_home_shows_who_needs_chasing_without_a_click(page, world):
    sign_in(page, world.trainer.email, factories.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Tomás")
    chase = page.get_by_role("region", name="Who needs chasing this week")
    overdue = chase.get_by_role("region", name=re.compile("^Overdue"))  # the scrolling table, named by its heading
    row = overdue.get_by_role("row").filter(has=page.get_by_role("link", name="Ana Overdue", exact=True))
    expect(row.get_by_role("cell")).to_have_text(["Ana Overdue", "Atlas Care", "Recorded lines certification",
                                                 due_date(world.ana)])
    expect(chase.get_by_role("link", name="Bruno Soon")).to_be_visible()  # due this week
    expect(chase.get_by_role("link", name="Carla Expiring")).to_be_visible()  # expiring within 30 days
    expect(chase.get_by_text("Duarte Certified")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile(r"^50% of agents certified \(2 of 4\)"))).to_be_visible()
    with page.expect_navigation():
        row.get_by_role("link", name="Ana Overdue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Overdue")


def test_the_dashboard_sorts_from_its_headers(page, world):
    sign_in(page, world.trainer.email, factories.PASSWORD)
    page.goto("/dashboard")
    agents = page.locator("#agents-table")
    header = agents.get_by_role("columnheader", name="Agent")
    with page.expect_navigation():
        header.get_by_role("button", name="Agent").click()
    assert "sort=name" in page.url and "order=asc" in page.url
    expect(agents.get_by_role("columnheader", name="Agent")).to_have_attribute("aria-sort", "ascending")
    names = agents.locator("tbody tr td:first-child a").all_inner_texts()
    assert names == sorted(names)
    with page.expect_navigation():
        agents.get_by_role("button", name="Agent").click()
    expect(agents.get_by_role("columnheader", name="Agent")).to_have_attribute("aria-sort", "descending")
    assert agents.locator("tbody tr td:first-child a").all_inner_texts() == sorted(names, reverse=True)
    # The counts: most overdue first, and the chart is drawn from the same address.
    with page.expect_navigation():
        page.locator("#counts-table").get_by_role("button", name="Overdue").click()
    assert "csort=overdue" in page.url and "corder=desc" in page.url
    expect(page.locator("#counts-table tbody th").first).to_have_text("Atlas Care")
    assert "csort=overdue" in page.locator("img.chart").get_attribute("src")


def test_on_a_phone_the_filters_wait_in_a_drawer(browser, live_server, world):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, world.trainer.email, factories.PASSWORD)
        page.goto("/dashboard")
        filters = page.get_by_role("search", name="Filter the dashboard")
        expect(filters.get_by_label("Status")).to_be_hidden()
        filters.get_by_text("Filters", exact=True).click()
        filters.get_by_label("Status").select_option(label="Overdue")
        with page.expect_navigation():
            filters.get_by_role("button", name="Apply filters").click()
        expect(page.get_by_role("table", name="1 enrolment matching the filters")).to_be_visible()
        expect(filters.locator("summary")).to_have_text("Filters 1 applied")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    finally:
        context.close()


def test_the_audit_log_opens_an_events_details(page, world):
    sign_in(page, world.scoped.email, factories.PASSWORD)
    page.goto("/audit/")
    expect(page.get_by_text("You see the events about Atlas Care")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Aoife Admin downloaded the certificate of Carla Expiring")
    expect(row.get_by_text("certificate.downloaded")).to_be_hidden()
    row.get_by_text("Recorded details").click()
    expect(row.get_by_text("certificate.downloaded")).to_be_visible()
    region = page.get_by_role("region", name=re.compile(r"^\d+ events, newest first$"))
    region.focus()
    expect(region).to_be_focused()  # the scrolling table takes the keyboard
