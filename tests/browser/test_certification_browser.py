"""Certification in Chromium: an agent earns an award from their home page, a trainer filters
the dashboard and downloads its CSV, and a partner-scoped auditor sees only their partner."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.dates import format_date
from sqlalchemy import select

from lms.accounts.models import Role
from lms.certification import services
from lms.certification.models import Award, Enrolment, Programme
from lms.clock import now
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_assessment_browser import expect, submit, take_whole_quiz, the_attempt

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "content" / "fixtures" / "valid"
PROGRAMME = "recorded-lines"     # tests/content/fixtures/valid/programmes/recorded-lines.yaml
PROGRAMME_TITLE = "Recorded lines"
COURSE_TITLE = "Recording calls lawfully"
QUIZ_TITLE = "Recording calls"
BOM = "\ufeff"
CSV_HEADER = ["Agent", "E-mail", "Organisation", "Programme", "Status", "Due or expires (UTC)",
              "Valid until (UTC)", "Certificate code", "Employee id", "Team"]
FORMULA_NAME = '=HYPERLINK("http://x")'


def day(moment) -> str:
    """A date as the agent's pages show it (the |date filter, in English and UTC here)."""
    return format_date(moment, "medium", locale="en_IE")


@pytest.fixture
def programme(app) -> Programme:
    """The fixture content (course, quiz and the recorded-lines programme), committed for the live server."""
    load_content(FIXTURE)
    db.session.commit()
    return db.session.scalars(select(Programme).where(Programme.slug == PROGRAMME)).one()


@pytest.fixture
def staff_org(app):
    """Where staff belong, so that they add no agent organisation of their own."""
    return factories.organisation("CallSafe HQ")


@pytest.fixture
def partners(app, programme, staff_org):
    """Two partners with agents past their due date, one agent of A still on time, and a formula-like name.

    Assignments made directly through the service: the form refuses due dates in the past.
    """
    admin = factories.user(Role.ADMIN, staff_org)
    a, b = factories.organisation("Partner A"), factories.organisation("Partner B")
    people = {
        "ana": factories.user(Role.AGENT, a, name="Ana Overdue"),
        "formula": factories.user(Role.AGENT, a, name=FORMULA_NAME),
        "olga": factories.user(Role.AGENT, a, name="Olga Ontime"),
        "bruno": factories.user(Role.AGENT, b, name="Bruno Overdue"),
        "beatriz": factories.user(Role.AGENT, b, name="Beatriz Overdue"),
    }
    # Olga's own assignment comes first, so her enrolment is due in 30 days, not with her partner's.
    services.assign(admin, programme, user=people["olga"], due_days=30)
    past = now() - timedelta(days=3)
    for org in (a, b):
        services.assign(admin, programme, organisation_id=org.id, due_at=past)
    db.session.commit()
    return {"A": a, "B": b, "past": past, **people}


# ---- reading the dashboard and its CSV ---------------------------------------------

def agents_table(page):
    return page.get_by_role("table", name=re.compile("enrolments matching the filters"))


def agent_names(page) -> list[str]:
    return [name.strip() for name in agents_table(page).get_by_role("link").all_inner_texts()]


def apply_filters(page, *, organisation: str | None = None, status: str | None = None) -> None:
    filters = page.get_by_role("search", name="Filter the dashboard")
    if organisation:
        filters.get_by_label("Organisation").select_option(label=organisation)
    if status:
        filters.get_by_label("Status").select_option(label=status)
    with page.expect_navigation():
        filters.get_by_role("button", name="Apply filters").click()


def download_csv(page) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV of this view").click()  # a link styled as a button
    download = info.value
    assert download.failure() is None
    return download.suggested_filename, Path(download.path()).read_bytes()


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM):], newline="")))


def overdue_row(agent, past) -> list[str]:
    return [agent.name, agent.email, agent.organisation.name, PROGRAMME_TITLE, "Overdue",
            f"{past:%Y-%m-%d}", "", "", agent.employee_id or "", agent.team or ""]


# ---- the tests -----------------------------------------------------------------------

def test_agent_sees_the_programme_due_reads_the_course_passes_the_quiz_and_is_certified(page, programme, staff_org):
    admin = factories.user(Role.ADMIN, staff_org)
    org = factories.organisation("Atlas Care")
    agent = factories.user(Role.AGENT, org, name="Maria Santos")
    services.assign(admin, programme, organisation_id=org.id, due_days=14)
    db.session.commit()
    enrolment = db.session.scalars(select(Enrolment).where(Enrolment.user_id == agent.id)).one()
    assert abs(enrolment.due_at - (now() + timedelta(days=14))) < timedelta(minutes=1)

    sign_in(page, agent.email, factories.PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Maria")
    todo = page.get_by_role("region", name="What you must do next")
    card = todo.get_by_role("article").filter(has=page.get_by_role("heading", name=PROGRAMME_TITLE))
    expect(card).to_have_count(1)
    expect(card.locator(".badge")).to_have_text("Not started")
    expect(card).to_contain_text(f"due {day(enrolment.due_at)}")
    expect(card).to_contain_text("0 of 2 requirements done")
    expect(page.get_by_role("region", name="My awards")).to_contain_text(
        "Your certificates will appear here once you complete a programme.")

    with page.expect_navigation():
        card.get_by_role("button", name=f"Read: {COURSE_TITLE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE_TITLE)
    with page.expect_navigation():
        page.get_by_role("button", name="Start reading").click()
    expect(page.get_by_text("Lesson 1 of 2")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choosing the lawful basis")
    with page.expect_navigation():
        page.get_by_role("button", name="Mark as read and continue").click()
    expect(page.get_by_text("Lesson 2 of 2")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Telling callers about recording")
    with page.expect_navigation():
        page.get_by_role("button", name="Mark as read and finish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE_TITLE)
    expect(page.get_by_text("2 of 2 lessons read")).to_be_visible()

    # Home again: the course is done, the quiz is the next step.
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(card.locator(".badge")).to_have_text("In progress")
    expect(card).to_contain_text(f"due {day(enrolment.due_at)}")
    expect(card).to_contain_text("1 of 2 requirements done")
    with page.expect_navigation():
        card.get_by_role("button", name=f"Take the quiz: {QUIZ_TITLE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(QUIZ_TITLE)
    with page.expect_navigation():
        page.get_by_role("button", name="Start the quiz").click()
    take_whole_quiz(page, the_attempt(), right=True)
    submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 100%")

    db.session.expire_all()
    award = db.session.scalars(select(Award).where(Award.user_id == agent.id)).one()
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page.get_by_text("You are certified in everything assigned to you. Well done.")).to_be_visible()
    expect(card.locator(".badge")).to_have_text("Certified")
    expect(card).to_contain_text(f"valid until {day(award.valid_until)}")
    expect(card).not_to_contain_text("due ")
    expect(card.get_by_role("button")).to_have_count(0)  # nothing left to do

    awards = page.get_by_role("region", name="My awards")
    row = awards.get_by_role("row").filter(has=page.get_by_role("cell", name=PROGRAMME_TITLE, exact=True))
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text(
        [PROGRAMME_TITLE, day(award.issued_at), day(award.valid_until), award.verification_code,
         f"Certificate (PDF) for {PROGRAMME_TITLE}, issued {day(award.issued_at)} "
         f"· Open Badge (PNG) for {PROGRAMME_TITLE}, issued {day(award.issued_at)} "
         f"· JSON, wallet link for {PROGRAMME_TITLE}"])
    expect(row.locator("code")).to_have_text(award.verification_code)
    expect(awards.get_by_text("Revoked")).to_have_count(0)


def test_trainer_filters_overdue_agents_of_one_partner_and_downloads_them_as_csv(page, partners, staff_org):
    trainer = factories.user(Role.TRAINER, staff_org)
    db.session.commit()
    sign_in(page, trainer.email, factories.PASSWORD)
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Certification dashboard")
    expect(agents_table(page).get_by_role("link")).to_have_count(5)  # everyone, before filtering

    apply_filters(page, organisation="Partner A", status="Overdue")
    assert "organisation=" in page.url and "status=overdue" in page.url
    table = agents_table(page)
    expect(table).to_have_accessible_name("2 enrolments matching the filters")
    expect(table.get_by_role("link")).to_have_count(2)
    assert sorted(agent_names(page)) == sorted(["Ana Overdue", FORMULA_NAME])
    for name in ("Ana Overdue", FORMULA_NAME):
        row = table.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
        expect(row.get_by_role("cell").nth(1)).to_have_text("Partner A")
        expect(row.get_by_role("cell").nth(2)).to_have_text("—")  # no team
        expect(row.locator(".badge")).to_have_text("Overdue")
        expect(row.get_by_role("cell").nth(5)).to_have_text(day(partners["past"]))
    expect(page.locator('a[href="http://x"]')).to_have_count(0)  # the name is shown as text, not markup

    filename, data = download_csv(page)
    assert re.fullmatch(r"certification-status-\d{8}-\d{4}\.csv", filename)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(data)
    assert rows[0] == CSV_HEADER
    past = partners["past"]
    expected = [overdue_row(partners["ana"], past),
                ["'" + FORMULA_NAME, *overdue_row(partners["formula"], past)[1:]]]
    assert sorted(rows[1:]) == sorted(expected)
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert f"'{FORMULA_NAME}".encode() not in data  # the quotes inside the name are doubled by the CSV writer
    assert b'"\'=HYPERLINK(""http://x"")"' in data


def test_partner_scoped_auditor_sees_and_exports_only_their_partner(page, partners, staff_org):
    a, b = partners["A"], partners["B"]
    auditor = factories.user(Role.AUDITOR, staff_org, scope=a)
    db.session.commit()
    sign_in(page, auditor.email, factories.PASSWORD)
    page.goto("/dashboard")

    expect(page.get_by_text("your scope: Partner A")).to_be_visible()
    organisation = page.get_by_role("search", name="Filter the dashboard").get_by_label("Organisation")
    expect(organisation.locator("option")).to_have_text(["All organisations", "Partner A"])
    counts = page.get_by_role("region", name="Agents by organisation")
    expect(counts.get_by_role("rowheader")).to_have_text(["Partner A"])
    expect(agents_table(page).get_by_role("link")).to_have_count(3)
    assert sorted(agent_names(page)) == sorted(["Ana Overdue", FORMULA_NAME, "Olga Ontime"])
    for cell in agents_table(page).locator("tbody tr td:nth-child(2)").all():
        expect(cell).to_have_text("Partner A")

    # A partner-A agent opens; typing the address of a partner-B agent finds nothing.
    response = page.goto(f"/people/{partners['ana'].id}")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Overdue")
    response = page.goto(f"/people/{partners['bruno'].id}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("Bruno Overdue")).to_have_count(0)

    page.goto("/dashboard")
    _, data = download_csv(page)
    rows = csv_rows(data)
    assert rows[0] == CSV_HEADER
    assert {row[2] for row in rows[1:]} == {"Partner A"}
    assert sorted(row[1] for row in rows[1:]) == sorted(
        partners[key].email for key in ("ana", "formula", "olga"))
    assert b"Partner B" not in data and partners["bruno"].email.encode() not in data

    # Asking for partner B by its id in the address gives no way round the scope either.
    page.goto(f"/dashboard?organisation={b.id}")
    expect(page.get_by_text("Bruno Overdue")).to_have_count(0)
    _, data = download_csv(page)
    assert csv_rows(data)[0] == CSV_HEADER
    assert {row[2] for row in csv_rows(data)[1:]} <= {"Partner A"}
