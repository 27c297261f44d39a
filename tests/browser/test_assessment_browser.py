"""Taking a quiz in Chromium: the whole flow with the call simulation, resuming, failing, autosave."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment.models import Answer, Attempt
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "content" / "fixtures" / "valid"
QUIZ_URL = "/quizzes/recording-calls"
PHASE_ROWS = {"Before the call": "100% (2 / 2)", "During the call": "100% (6 / 6)"}


def expect(target):
    """Playwright's retrying assertions, imported late so a missing package skips as conftest says."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def agent(app):
    """An agent, and the fixture course with its quiz, committed for the live server."""
    load_content(FIXTURE)
    person = factories.user(Role.AGENT)
    db.session.commit()
    return person


@contextmanager
def fresh_page(browser, live_server):
    """A new browser context (no cookies), as after closing the browser."""
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
    finally:
        context.close()


# ---- reading the attempt on the test side ------------------------------------------------

def the_attempt() -> Attempt:
    db.session.expire_all()
    return db.session.scalars(select(Attempt)).one()


def drawn(attempt: Attempt, position: int) -> tuple[dict, dict]:
    """The item spec (with its key) at a 1-based position, and what the attempt shows of it."""
    entry = attempt.draw[position - 1]
    item = next(q for q in attempt.quiz_version.spec["questions"] if q["id"] == entry["item"])
    return item, entry["shown"]


def position_of(attempt: Attempt, item_type: str) -> int:
    return next(p for p in range(1, len(attempt.draw) + 1) if drawn(attempt, p)[0]["type"] == item_type)


def saved_answers() -> dict[int, Answer]:
    db.session.expire_all()
    return {answer.position: answer for answer in db.session.scalars(select(Answer))}


# ---- what the agent clicks ------------------------------------------------------------

@contextmanager
def autosaving(page):
    """Wait for the save that quiz.js sends when an answer changes."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/answers/" in r.url) as saved:
        yield
    assert saved.value.status == 200, saved.value.text()


def option_text(item: dict, option_id: str) -> str:
    return next(o["text"] for o in item["options"] if o["id"] == option_id)


def answer(page, item: dict, *, right: bool) -> None:
    """Answer a (non-simulation) question the right or a wrong way, as a person would."""
    kind = item["type"]
    if kind == "true_false":
        with autosaving(page):
            page.get_by_label("True" if item["correct"] == right else "False", exact=True).check()
    elif kind == "single_choice":
        choice = item["correct"] if right else next(o["id"] for o in item["options"] if o["id"] != item["correct"])
        with autosaving(page):
            page.get_by_label(option_text(item, choice), exact=True).check()
    elif kind == "multiple_response":
        chosen = item["correct"] if right else [o["id"] for o in item["options"] if o["id"] not in item["correct"]]
        for choice in chosen:
            with autosaving(page):
                page.get_by_label(option_text(item, choice), exact=True).check()
    elif kind == "ordering":
        steps = item["correct"] if right else list(reversed(item["correct"]))
        # quiz.js saves an ordering once every step has a place: after the last one.
        for place, step in enumerate(steps[:-1], start=1):
            page.get_by_label(option_text(item, step), exact=True).select_option(str(place))
        with autosaving(page):
            page.get_by_label(option_text(item, steps[-1]), exact=True).select_option(str(len(steps)))
    else:
        raise AssertionError(f"no way to answer {kind}")


def best_total(nodes: dict, node_id: str) -> int:
    return max((c["score"] + best_total(nodes, c["next"]) for c in nodes[node_id].get("choices", [])), default=0)


def play_call(page, item: dict, *, right: bool) -> None:
    """Say the best (or the worst) reply at each point of the call until it ends."""
    nodes = {node["id"]: node for node in item["nodes"]}
    node = nodes[item["start"]]
    while not node.get("end"):
        expect(page.locator(".conversation .current")).to_contain_text(node["caller"])
        choice = (max if right else min)(node["choices"], key=lambda c: c["score"] + best_total(nodes, c["next"]))
        page.get_by_label(choice["text"], exact=True).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Say this").click()
        node = nodes[choice["next"]]
    expect(page.get_by_text("The call has ended.")).to_be_visible()
    expect(page.locator(".conversation .current")).to_contain_text(node["caller"])


def move_on(page, position: int, total: int) -> None:
    """Save and go to the next question, or to the review page after the last one."""
    name = "Save and next" if position < total else "Save and review answers"
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def open_question(page, position: int) -> None:
    """From a question page, through the review page, to the question at `position`."""
    with page.expect_navigation():
        page.get_by_role("button", name="Review all answers").click()
    with page.expect_navigation():
        page.get_by_role("link", name=f"Question {position}", exact=True).click()
    expect(page.get_by_text(re.compile(rf"^Question {position} of \d+"))).to_be_visible()


def start_quiz(page, agent) -> Attempt:
    sign_in(page, agent.email, factories.PASSWORD)
    page.goto(QUIZ_URL)
    with page.expect_navigation():
        page.get_by_role("button", name="Start the quiz").click()
    return the_attempt()


def take_whole_quiz(page, attempt: Attempt, *, right: bool) -> None:
    total = len(attempt.draw)
    for position in range(1, total + 1):
        expect(page.get_by_text(f"Question {position} of {total}")).to_be_visible()
        item, _ = drawn(attempt, position)
        if item["type"] == "call_simulation":
            play_call(page, item, right=right)
        else:
            answer(page, item, right=right)
        move_on(page, position, total)


def submit(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Submit my answers").click()


def review_badge(page, position: int):
    return page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=f"Question {position}", exact=True)).locator(".badge").last


# ---- the tests -------------------------------------------------------------------------

def test_agent_takes_the_whole_quiz_with_the_call_simulation_and_passes(page, agent):
    sign_in(page, agent.email, factories.PASSWORD)
    page.goto("/courses/recording-calls")
    with page.expect_navigation():  # the quiz link is styled (and named by its role) as a button
        page.get_by_role("button", name=re.compile(r"(Take|Go to) the quiz")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recording calls")
    with page.expect_navigation():
        page.get_by_role("button", name="Start the quiz").click()

    attempt = the_attempt()
    assert drawn(attempt, 1)[0]["type"] == "call_simulation"  # the draw rules put the call first
    take_whole_quiz(page, attempt, right=True)

    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.get_by_text("5 of 5 answered.")).to_be_visible()
    submit(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Passed: 100%")
    phases = page.get_by_role("region", name="Score by moment of the call")
    for moment, score in PHASE_ROWS.items():
        expect(phases.get_by_role("row", name=moment)).to_contain_text(score)
    expect(phases.get_by_role("row", name="After the call")).to_have_count(0)

    review = page.get_by_role("region", name="Review", exact=True)
    expect(review.get_by_role("article")).to_have_count(5)
    expect(review.get_by_text("References:")).to_have_count(5)
    for position in range(1, 6):
        item, _ = drawn(attempt, position)
        article = review.get_by_role("article").nth(position - 1)
        expect(article).to_contain_text(f"Why: {item['explanation']}")
        expect(article).to_contain_text("References: " + " · ".join(item["references"]))
    expect(review.get_by_text("Could Sarah come to the phone?")).to_be_visible()  # the call as it went

    attempt = the_attempt()
    assert attempt.passed and attempt.percent == 100.0
    assert attempt.phase_scores["during"] == {"earned": 6, "possible": 6, "percent": 100.0}


def test_closing_the_browser_half_way_and_resuming_keeps_the_answers(browser, live_server, page, agent):
    attempt = start_quiz(page, agent)
    single, multiple = position_of(attempt, "single_choice"), position_of(attempt, "multiple_response")
    first, second = sorted((single, multiple))

    open_question(page, first)
    answer(page, drawn(attempt, first)[0], right=True)
    move_on(page, first, 5)
    expect(page.get_by_text(f"Question {second} of 5 · 1 answered")).to_be_visible()
    answer(page, drawn(attempt, second)[0], right=True)  # saved by quiz.js; no button clicked
    expect(page.get_by_text("Answer saved.")).to_be_visible()
    expect(page.get_by_text(f"Question {second} of 5 · 2 answered")).to_be_visible()  # counted as saved
    page.context.close()

    with fresh_page(browser, live_server) as again:
        sign_in(again, agent.email, factories.PASSWORD)
        again.goto(QUIZ_URL)
        expect(again.get_by_role("button", name=re.compile("Start"))).to_have_count(0)
        with again.expect_navigation():
            again.get_by_role("button", name="Resume your attempt").click()
        expect(again.get_by_text("Question 1 of 5 · 2 answered")).to_be_visible()  # the first open question

        open_question(again, single)
        item = drawn(attempt, single)[0]
        expect(again.get_by_label(option_text(item, item["correct"]), exact=True)).to_be_checked()
        for other in (o for o in item["options"] if o["id"] != item["correct"]):
            expect(again.get_by_label(other["text"], exact=True)).not_to_be_checked()

        open_question(again, multiple)
        item = drawn(attempt, multiple)[0]
        for option in item["options"]:
            box = again.get_by_label(option["text"], exact=True)
            expect(box).to_be_checked(checked=option["id"] in item["correct"])

        with again.expect_navigation():
            again.get_by_role("button", name="Review all answers").click()
        expect(again.get_by_text("2 of 5 answered.")).to_be_visible()
        for position in range(1, 6):
            expect(review_badge(again, position)).to_have_text(
                "Answered" if position in (single, multiple) else "Not answered")


def test_failing_shows_the_cooldown_and_no_start_button(page, agent):
    attempt = start_quiz(page, agent)
    take_whole_quiz(page, attempt, right=False)
    expect(page.get_by_text("5 of 5 answered.")).to_be_visible()
    submit(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Not passed yet: 0%")
    expect(page.get_by_text("Answers and explanations are shown once you pass this quiz.")).to_be_visible()
    expect(page.get_by_text("Why:")).to_have_count(0)

    attempt = the_attempt()
    assert attempt.passed is False
    opens = attempt.finished_at + timedelta(minutes=60)
    # In the reader's language and zone (en and UTC here), the zone named.
    cooldown = f"Your next attempt opens at {format_datetime(opens, 'short', tzinfo=timezone.utc, locale='en_IE')} UTC, in "
    expect(page.get_by_text(cooldown)).to_be_visible()
    expect(page.get_by_role("link", name="Try again")).to_have_count(0)

    page.goto(QUIZ_URL)
    expect(page.get_by_text(cooldown)).to_be_visible()
    expect(page.get_by_text("1 of 3 attempts used")).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_role("button")).to_have_count(0)  # neither "Start a new attempt" nor "Resume"


def test_choosing_an_option_saves_it_without_a_button(page, agent):
    attempt = start_quiz(page, agent)
    position = position_of(attempt, "single_choice")
    item, _ = drawn(attempt, position)
    open_question(page, position)
    url = page.url

    page.get_by_label(option_text(item, item["correct"]), exact=True).check()

    expect(page.get_by_role("status").filter(has_text="Answer saved.")).to_be_visible()
    assert page.url == url  # no navigation: the page stayed as it was
    saved = saved_answers()
    assert list(saved) == [position]
    assert saved[position].item_id == item["id"] and saved[position].response == item["correct"]


def test_picking_a_reply_in_the_call_saves_nothing_until_it_is_said(page, agent):
    attempt = start_quiz(page, agent)
    item, _ = drawn(attempt, 1)
    page.get_by_label("I can only discuss it with Sarah.", exact=True).check()
    page.wait_for_timeout(500)  # time for an autosave, were there one
    assert saved_answers() == {}

    with page.expect_navigation():
        page.get_by_role("button", name="Say this").click()
    expect(page.locator(".conversation .current")).to_contain_text(item["nodes"][1]["caller"])
    assert saved_answers()[1].response == ["b"]
    # The page comes back at the caller's new line, with focus on it: a keyboard and a screen
    # reader go on from what the caller says next, not from the top of the page.
    expect(page.locator(".conversation .current")).to_be_focused()
    assert page.url.endswith("#caller-now")


def test_an_unanswered_ordering_question_can_be_left_for_later(page, agent):
    """Like any other question, an ordering one can be skipped and answered later.

    Fails today: its empty "position-*" selects count as an answer in assessment/views.py,
    so every button on the page answers "Give every step a position." instead of moving on.
    """
    attempt = start_quiz(page, agent)
    position = position_of(attempt, "ordering")
    open_question(page, position)

    with page.expect_navigation():  # every step still says "Position…": nothing has been answered
        page.get_by_role("button", name="Review all answers").click()

    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(review_badge(page, position)).to_have_text("Not answered")


def test_a_slow_save_never_brings_an_older_choice_back(page, agent):
    """The agent changes their mind while the first save is still on its way (a slow network),
    and the replies come back in the wrong order: the answer stored is the last one chosen."""
    attempt = start_quiz(page, agent)
    position = position_of(attempt, "single_choice")
    item, _ = drawn(attempt, position)
    open_question(page, position)
    first, last = item["options"][0]["id"], item["options"][1]["id"]
    held = []
    page.route("**/answers/*", lambda route: held.append(route))  # replies wait until released

    page.get_by_label(option_text(item, first), exact=True).check()
    page.wait_for_timeout(200)
    page.get_by_label(option_text(item, last), exact=True).check()
    page.wait_for_timeout(500)
    # One save at a time: the second waits for the first, so nothing can overtake it.
    assert len(held) == 1
    # Release whatever is held, newest first (the worst order a network can give), until all is sent.
    while held:
        for route in reversed(held[:]):
            held.remove(route)
            route.continue_()
        page.wait_for_timeout(500)
    expect(page.get_by_role("status").filter(has_text="Answer saved.")).to_be_visible()
    assert saved_answers()[position].response == last
