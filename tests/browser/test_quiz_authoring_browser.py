"""A trainer builds a quiz with three questions and a short call in Chromium, and previews it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.assessment.models import Attempt
from lms.authoring.drafts import check_draft
from lms.authoring.models import Draft
from lms.authoring.quiz_yaml import load_quiz
from lms.extensions import db
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

SLUG = "phone-basics"
# Set LMS_SCREENSHOTS to a folder to keep a picture of the simulation editor.
SCREENSHOTS = os.environ.get("LMS_SCREENSHOTS")


def expect(target):
    """Playwright's retrying assertions, imported late so a missing package skips as conftest says."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def trainer(app):
    person = factories.user(Role.TRAINER)
    db.session.commit()
    return person


def fill_common(page, item_id: str, explanation: str, references: str) -> None:
    page.locator("#id").fill(item_id)
    page.locator("#phase").select_option("during")
    page.locator("#explanation").fill(explanation)
    page.locator("#references").fill(references)


def add_question(page, kind_label: str) -> None:
    page.get_by_role("button", name=kind_label, exact=True).click()  # links styled as buttons


def save(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def answer_current_question(page) -> None:
    """Answer whatever the preview shows now, as an agent would."""
    if page.locator(".conversation").count():
        while not page.get_by_text("The call has ended.").count():
            page.locator("input[name=option]").first.check()
            save(page, "Say this")
        return
    selects = page.locator("select[name^=position-]")
    if selects.count():
        for index in range(selects.count()):
            selects.nth(index).select_option(str(index + 1))
        return
    page.locator("input[name=option]").first.check()


def test_trainer_builds_a_quiz_with_a_call_fixes_a_dead_end_and_previews_it(page, live_server, trainer):
    build_and_preview_quiz(page, trainer)


def build_and_preview_quiz(page, trainer) -> None:
    """The trainer builds the four-item quiz in the editor and previews it (asserting as it goes)."""
    sign_in(page, trainer.email, factories.PASSWORD)
    page.goto("/authoring/quizzes/new")
    page.get_by_label("Title").fill("Phone basics")  # the quiz's address, phone-basics, comes from it
    save(page, "Create the draft")
    expect(page.get_by_role("heading", name="Phone basics", level=1)).to_be_visible()

    # Single choice: two options, the second one right.
    add_question(page, "Single choice")
    fill_common(page, "who-calls", "Verify before disclosing (Art. 5(1)(f)).", "Art. 5(1)(f)")
    page.locator("#prompt").fill("A caller asks for their balance. First step?")
    for index, (oid, text) in enumerate([("tell", "Tell them"), ("verify", "Verify who they are")]):
        page.locator(f"#options-{index}-id").fill(oid)
        page.locator(f"#options-{index}-text").fill(text)
        page.locator(f"#options-{index}-feedback").fill(f"Feedback on {oid}")
    page.locator("#options-1-correct").check()
    save(page, "Save question")
    expect(page.locator("#question-who-calls")).to_be_visible()

    # True or false.
    add_question(page, "True or false")
    fill_common(page, "dob-enough", "A date of birth is no proof (Art. 32).", "Art. 32")
    page.locator("#prompt").fill("A date of birth proves who the caller is.")
    page.get_by_label("False", exact=True).check()
    page.locator("#feedback_true").fill("No: anyone can find a date of birth.")
    page.locator("#feedback_false").fill("Right.")
    save(page, "Save question")

    # Ordering: a first save without places is refused, keeps the text and points at the field.
    add_question(page, "Ordering")
    fill_common(page, "steps", "Verify, then help (Art. 32).", "Art. 32")
    page.locator("#prompt").fill("Put the steps in order.")
    for index, (oid, text) in enumerate([("greet", "Greet"), ("check", "Check identity"), ("help", "Help")]):
        page.locator(f"#options-{index}-id").fill(oid)
        page.locator(f"#options-{index}-text").fill(text)
        page.locator(f"#options-{index}-feedback").fill(f"Step {oid}")
    save(page, "Save question")
    expect(page.locator(".error-summary")).to_contain_text("Give each option its place")
    expect(page.locator("#options-0-position")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#options-2-text")).to_have_value("Help")
    for index in range(3):
        page.locator(f"#options-{index}-position").fill(str(index + 1))
    save(page, "Save question")
    expect(page.locator("#question-steps")).to_be_visible()

    # A short call: the first node has no replies yet, so the tree flags a dead end.
    add_question(page, "Call simulation")
    fill_common(page, "sim-balance", "Confidentiality (Art. 5(1)(f)).", "Art. 5(1)(f)")
    page.locator("#title").fill("The balance call")
    page.locator("#scenario").fill("An inbound call <on the billing line>.")
    page.locator("#opening").fill("Hi, what's my balance?")
    save(page, "Save the simulation")
    tree = page.locator("svg.sim-tree")
    expect(tree).to_be_visible()
    expect(tree.locator('[data-node="n1"]')).to_contain_text("DEAD END")
    expect(page.locator(".problems")).to_contain_text("node 'n1': has neither choices nor 'end: true'")

    for node_id, caller in [("end-good", "Thanks for checking."), ("end-bad", "Ha, got it.")]:
        page.get_by_label("New node id").fill(node_id)
        page.get_by_label("What the caller says at the new node").fill(caller)
        page.get_by_label("It is an ending").check()
        save(page, "Add node")
    expect(tree.locator('[data-node="end-good"]')).to_contain_text("UNREACHABLE")

    # Fix the dead end from the problem list: two replies, to the two endings.
    with page.expect_navigation():
        page.locator(".problems a", has_text="node 'n1'").first.click()
    for index, (rid, text, score, target) in enumerate([("verify", "Let me verify you first.", "3", "end-good"),
                                                        ("read-out", "It's 42 euros.", "0", "end-bad")]):
        if index:  # the form offers one blank reply; ask for another (what was typed stays)
            save(page, "Add another reply")
        page.locator(f"#choices-{index}-id").fill(rid)
        page.locator(f"#choices-{index}-text").fill(text)
        page.locator(f"#choices-{index}-feedback").fill(f"Feedback {rid}")
        page.locator(f"#choices-{index}-score").select_option(score)
        page.locator(f"#choices-{index}-next").select_option(target)
    save(page, "Save node")
    tree = page.locator("svg.sim-tree")
    expect(tree.locator(".sim-node")).to_have_count(3)
    expect(tree).not_to_contain_text("⚠")
    expect(page.locator(".problems")).to_have_count(0)
    expect(page.locator(".sim-paths")).to_contain_text("Score 3 of 3, ends at end-good")
    expect(page.locator(".sim-paths")).to_contain_text("Score 0 of 3, ends at end-bad")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "simulation-editor.png"), full_page=True)

    # Draw all four items, then preview the quiz as an agent.
    page.get_by_role("link", name="Quiz: Phone basics").click()  # the breadcrumb names it by its title
    page.locator("#draw-0-phase").select_option("during")
    page.locator("#draw-0-count").fill("4")
    save(page, "Save settings")
    expect(page.locator(".problems")).to_have_count(0)
    page.get_by_role("link", name="Preview this quiz as an agent").click()
    save(page, "Start the preview")
    for position in range(1, 5):
        expect(page.locator("#progress-label")).to_contain_text(f"Question {position} of 4")
        answer_current_question(page)
        save(page, "Save and next" if position < 4 else "Finish and see the result")
    expect(page.get_by_role("heading", level=1)).to_contain_text("%")
    expect(page.get_by_role("row", name="During the call")).to_be_visible()

    db.session.expire_all()
    draft = db.session.scalars(select(Draft).where(Draft.slug == SLUG)).one()
    quiz = load_quiz(draft.files[f"quizzes/{SLUG}.yaml"])
    assert [q["id"] for q in quiz["questions"]] == ["who-calls", "dob-enough", "steps", "sim-balance"]
    assert quiz["questions"][3]["scenario"] == "An inbound call <on the billing line>."
    assert check_draft(draft) == []      # what the editor built is what publishing accepts
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0


def publish(page, kind: str, slug: str) -> None:
    page.goto(f"/authoring/{kind}/{slug}/publish")
    expect(page.locator(".problems")).to_have_count(0)
    save(page, "Publish new version")
    expect(page.locator(".flash").first).to_contain_text("is published")


def test_a_built_quiz_is_published_assigned_taken_edited_and_diffed(page, live_server, trainer):
    """The whole loop of the authoring issue, in the browser: build, publish, assign through a
    programme, an agent takes it for real, the trainer fixes a question and sees the diff."""
    build_and_preview_quiz(page, trainer)
    publish(page, "quiz", SLUG)

    # A programme that requires the quiz, built in the programme form, published and assigned.
    page.goto("/authoring/programme/new")
    page.get_by_label("Title").fill("Phone basics certificate")
    page.locator("summary", has_text="Advanced").click()  # an address of one's own choosing
    page.get_by_label("Programme slug").fill("phone-basics-cert")
    save(page, "Create draft")
    page.get_by_label("Description").fill("Verifying callers before disclosing anything, on the phone.")
    page.get_by_label("Recertification opens (days before expiry)").fill("30")
    page.get_by_label("Grace period (days)").fill("0")
    for ticked in page.locator("input[name=requirements]:checked").all():
        ticked.uncheck()  # the new draft's first requirement: no course is published here
    quiz = page.get_by_role("group", name="Quiz: Phone basics")
    quiz.get_by_label("Required").check()
    quiz.get_by_label("Minimum score (%)").fill("50")
    save(page, "Save programme")
    expect(page.locator(".flash").first).to_contain_text("Content check finds no problems.")
    publish(page, "programme", "phone-basics-cert")
    agent = factories.user(Role.AGENT, trainer.organisation, name="Nora Agent")
    db.session.commit()
    page.goto("/assignments")
    page.get_by_label("Programme", exact=True).select_option(label="Phone basics certificate")
    page.get_by_label("Every agent of an organisation, now and later").check()
    page.get_by_label("Organisation", exact=True).select_option(label=trainer.organisation.name)
    save(page, "Assign")
    expect(page.get_by_role("table").last).to_contain_text("Phone basics certificate")

    # The agent sees it on their home page and takes the real quiz: an attempt that counts.
    page.context.clear_cookies()
    sign_in(page, agent.email, factories.PASSWORD)
    expect(page.locator("main")).to_contain_text("Phone basics certificate")
    page.goto(f"/quizzes/{SLUG}")
    save(page, "Start the quiz")
    for position in range(1, 5):
        answer_current_question(page)
        save(page, "Save and next" if position < 4 else "Save and review answers")
    save(page, "Submit my answers")
    expect(page.get_by_role("heading", level=1)).to_contain_text("%")
    db.session.expire_all()
    attempt = db.session.scalars(select(Attempt).where(Attempt.user_id == agent.id)).one()
    assert attempt.percent is not None and len(attempt.draw) == 4

    # The trainer rewords a question and publishes a second version; the history shows the change.
    page.context.clear_cookies()
    sign_in(page, trainer.email, factories.PASSWORD)
    page.goto(f"/authoring/quizzes/{SLUG}/questions/dob-enough")
    page.locator("#prompt").fill("A date of birth alone proves who the caller is.")
    save(page, "Save question")
    publish(page, "quiz", SLUG)
    page.goto(f"/authoring/quiz/{SLUG}/versions")
    expect(page.locator("tbody tr")).to_have_count(2)
    save(page, "Show the differences")
    diff = page.locator("main")
    expect(diff).to_contain_text("A date of birth proves who the caller is.")
    expect(diff).to_contain_text("A date of birth alone proves who the caller is.")
    # The agent's attempt still points at the version it was taken on.
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).quiz_version_id == attempt.quiz_version_id
