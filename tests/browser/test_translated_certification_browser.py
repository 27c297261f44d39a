"""Issue #19 end to end in Chromium: a Portuguese partner's agent and an Arabic-speaking agent each
take `gdpr-essentials` in their language and receive a certificate in it.

The shipped content is loaded (courses/, quizzes/ and the translations beside them). Each agent
signs in, reads every lesson, takes the quiz and passes it by clicking what a person clicks; the
words the test looks for are read from the translation files and from the catalogues (never typed
here), so that a page falling back to English fails. The certificate is rendered when the award is
issued (CERTIFICATES_ON_AWARD, as in production), downloaded from the agent's home page and read
with poppler's pdftotext.

The Arabic agent works on a 390 px phone; the pages are right to left, and screenshots of a
lesson, a question and the result go to /tmp/shots-e2e/ for a person to look at.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessment.models import Attempt
from lms.certification import services
from lms.certification.models import Award
from lms.config import PROJECT_ROOT
from lms.evidence.embedded import embedded_json
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from lms.learning.sync import load_content
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_assessment_browser import autosaving, expect

pytestmark = pytest.mark.browser

SLUG = "gdpr-essentials"
SOURCE_TITLE = "GDPR essentials for contact centres"  # the English course's and quiz's title
PROGRAMME_TITLE = "GDPR essentials certification"
SHOTS = Path("/tmp/shots-e2e")
PHONE = {"width": 390, "height": 844}
DIRECTION_MARKS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"


# ---- what the content files say, read as a translator wrote them -----------------------------

def _front_matter(path: Path) -> dict:
    _, head, _ = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(head)


def translated_content(language: str) -> dict:
    """The course title, lesson titles (in course order), and the quiz's title, prompts and
    option texts, from the `.<language>` files beside the source."""
    course_dir = PROJECT_ROOT / "courses" / SLUG
    lessons = yaml.safe_load((course_dir / "course.yaml").read_text(encoding="utf-8"))["lessons"]
    course = yaml.safe_load((course_dir / f"course.{language}.yaml").read_text(encoding="utf-8"))
    quiz = yaml.safe_load((PROJECT_ROOT / "quizzes" / f"{SLUG}.{language}.yaml").read_text(encoding="utf-8"))
    return {
        "course_title": course["title"],
        "lesson_titles": [_front_matter(course_dir / lesson.replace(".md", f".{language}.md"))["title"]
                          for lesson in lessons],
        "quiz_title": quiz["title"],
        "questions": quiz["questions"],
    }


def ui(language: str, message: str, **values) -> str:
    """An interface message as the catalogues translate it into `language`."""
    with force_locale(language):
        return gettext(message, **values)


def ui_pattern(language: str, message: str, name: str, value: str) -> re.Pattern:
    """The translated message, whole, with its one placeholder `name` matching the regex `value`."""
    before, after = ui(language, message, **{name: "\0"}).split("\0")
    return re.compile(f"^{re.escape(before)}{value}{re.escape(after)}$")


def ui_plural(language: str, singular: str, plural: str, number: int, **values) -> str:
    with force_locale(language):
        return ngettext(singular, plural, number, **values)


def squash(text: str) -> str:
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    """pdftotext's reading, whitespace collapsed and the direction marks around runs dropped."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return squash(re.sub(DIRECTION_MARKS, "", text))


# ---- the world -------------------------------------------------------------------------------

@pytest.fixture
def world(app, tmp_path: Path) -> dict:
    """The shipped content; a programme of the gdpr-essentials course and quiz assigned to a
    Portuguese partner (language pt; its agent has none of their own) and to a Moroccan partner
    whose agent chose Arabic; certificates rendered on award with a development signing key."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None,
                      SIGNING_KEY_ID=None, CERTIFICATES_ON_AWARD=True)
    load_content(PROJECT_ROOT)  # raises ContentInvalid on any problem
    programme = factories.programme("gdpr-essentials-cert", title=PROGRAMME_TITLE, requirements=[
        {"course": SLUG}, {"quiz": SLUG, "min_score": 80}])

    lisbon = factories.organisation("Atlântico Contact", country="PT")
    lisbon.language = "pt"
    joana = factories.user(Role.AGENT, lisbon, name="Joana Ferreira")
    assert joana.language is None

    casablanca = factories.organisation("Maghreb Relations Clients", country="MA")
    casablanca.language = "fr"  # the agent's own choice comes first
    yasmine = factories.user(Role.AGENT, casablanca, name="Yasmine El Idrissi")
    yasmine.language = "ar"

    for org in (lisbon, casablanca):
        services.assign(None, programme, organisation_id=org.id, due_days=30)
    db.session.commit()
    return {"pt": joana, "ar": yasmine}


# ---- what the agent does ---------------------------------------------------------------------

def expect_page_in(page, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")


def shoot(page, language: str, name: str) -> None:
    if language == "ar":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{language}-{name}.png"), full_page=True)


def go_home(page, language: str) -> None:
    """Through the main navigation; on a phone its links fold behind the menu button."""
    nav = page.get_by_role("navigation", name=ui(language, "Main"))
    if language == "ar":  # on a phone
        menu = nav.get_by_role("button", name=ui(language, "Menu"), exact=True)
        expect(menu).to_be_visible()
        menu.click()
    with page.expect_navigation():
        nav.get_by_role("link", name=ui(language, "Home"), exact=True).click()


def next_step(page, language: str, message: str):
    """The programme card's button to its next requirement, found by its translated verb: the card
    names the requirement by its source title (requirement_states_for reads no translation)."""
    verb = ui(language, message, title="\0").split("\0")[0]
    card = page.get_by_role("article").filter(has=page.get_by_role("heading", name=PROGRAMME_TITLE))
    return card.get_by_role("button", name=re.compile("^" + re.escape(verb)))


def read_the_course(page, language: str, text: dict) -> None:
    """From the home page's card, through every lesson, marking each as read."""
    with page.expect_navigation():
        next_step(page, language, "Read: %(title)s").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["course_title"])
    expect_page_in(page, language)
    expect(page.get_by_role("heading", name=SOURCE_TITLE)).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name=ui(language, "Start reading"), exact=True).click()

    titles = text["lesson_titles"]
    for number, title in enumerate(titles, start=1):
        expect(page.get_by_text(ui(language, "Lesson %(number)s of %(total)s", number=number, total=len(titles)),
                                exact=True)).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect_page_in(page, language)
        if number == 1:
            shoot(page, language, "lesson")
        last = number == len(titles)
        button = ui(language, "Mark as read and finish" if last else "Mark as read and continue")
        with page.expect_navigation():
            page.get_by_role("button", name=button, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(text["course_title"])
    read = ui_plural(language, "%(finished)s of %(count)s lesson read", "%(finished)s of %(count)s lessons read",
                     len(titles), finished=len(titles), count=len(titles))
    expect(page.get_by_text(read, exact=True)).to_be_visible()


def answer_in(page, language: str, item: dict, shown: dict) -> None:
    """Answer rightly, finding the options by the text the translation gives them: `item` is the
    source's (with the key), `shown` the translation's text of that item."""
    expect(page.locator("legend.prompt")).to_contain_text(squash(shown["prompt"]))

    def option(option_id: str):
        return page.get_by_label(squash(shown["options"][option_id]["text"]), exact=True)

    kind = item["type"]
    if kind == "true_false":
        with autosaving(page):
            page.get_by_label(ui(language, "True" if item["correct"] else "False"), exact=True).check()
    elif kind == "single_choice":
        with autosaving(page):
            option(item["correct"]).check()
    elif kind == "multiple_response":
        for choice in item["correct"]:
            with autosaving(page):
                option(choice).check()
    elif kind == "ordering":
        *first, last = item["correct"]
        for place, step in enumerate(first, start=1):
            option(step).select_option(str(place))
        with autosaving(page):
            option(last).select_option(str(len(item["correct"])))
    else:
        raise AssertionError(f"gdpr-essentials has no {kind} questions")


def take_the_quiz(page, language: str, text: dict, agent) -> Attempt:
    go_home(page, language)
    with page.expect_navigation():
        next_step(page, language, "Take the quiz: %(title)s").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["quiz_title"])
    expect_page_in(page, language)
    with page.expect_navigation():
        page.get_by_role("button", name=ui(language, "Start the quiz"), exact=True).click()

    db.session.expire_all()
    attempt = db.session.scalars(select(Attempt).where(Attempt.user_id == agent.id)).one()
    assert attempt.language == language and attempt.translation_id is not None
    questions = {item["id"]: item for item in attempt.quiz_version.spec["questions"]}
    total = len(attempt.draw)
    for position, entry in enumerate(attempt.draw, start=1):
        expect(page).to_have_url(re.compile(rf"/attempts/{attempt.id}/questions/{position}$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(text["quiz_title"])
        expect_page_in(page, language)
        answer_in(page, language, questions[entry["item"]], text["questions"][entry["item"]])
        if position == 1:
            shoot(page, language, "question")
        move_on = "Save and next" if position < total else "Save and review answers"
        with page.expect_navigation():
            page.get_by_role("button", name=ui(language, move_on), exact=True).click()

    with page.expect_navigation():
        page.get_by_role("button", name=ui(language, "Submit my answers"), exact=True).click()
    # (100 or 100.0: how a score is rounded for display is not this test's business)
    passed = ui_pattern(language, "Passed: %(percent)s%%", "percent", r"100(\.0)?")
    expect(page.get_by_role("heading", level=1)).to_have_text(passed)
    expect_page_in(page, language)
    shoot(page, language, "result")
    return attempt


def download_certificate(page, language: str, tmp_path: Path) -> Path:
    go_home(page, language)
    done = ui(language, "You are certified in everything assigned to you. Well done.")
    expect(page.get_by_text(done)).to_be_visible()
    awards = page.get_by_role("region", name=ui(language, "My awards"))
    link = awards.get_by_role("link", name=re.compile("^" + re.escape(ui(language, "Certificate (PDF)"))))
    expect(link).to_have_count(1)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None
    path = tmp_path / f"certificate-{language}.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    return path


def certify_in_the_browser(page, agent, language: str, tmp_path: Path) -> tuple[str, dict, dict]:
    """Everything the agent does, from signing in to the downloaded certificate: its text, its
    embedded data and what the translation files say."""
    text = translated_content(language)
    assert text["course_title"] != SOURCE_TITLE and text["quiz_title"] != SOURCE_TITLE
    sign_in(page, agent.email, factories.PASSWORD)
    expect_page_in(page, language)
    read_the_course(page, language, text)
    attempt = take_the_quiz(page, language, text, agent)
    path = download_certificate(page, language, tmp_path)

    db.session.expire_all()
    award = db.session.scalars(select(Award).where(Award.user_id == agent.id)).one()
    [quiz] = award.evidence["quizzes"]
    assert quiz["language"] == language and quiz["percent"] == 100.0
    assert db.session.get(Attempt, attempt.id).passed
    return pdf_text(path), embedded_json(path.read_bytes(), "certificate.json"), text


def printed_with_version(arabic_title: str, version: str) -> str:
    """A pattern for an Arabic title printed beside its content version, as pdftotext reads it: the
    Arabic words in order, but the Latin "(GDPR)" inside and the space before the version may move."""
    words = re.findall(r"[\u0600-\u06ff]+", arabic_title)
    return r"\D{0,12}".join(map(re.escape, [*words, version[:12]]))


# ---- the test --------------------------------------------------------------------------------

def test_a_portuguese_partners_agent_and_an_arabic_speaking_agent_are_each_certified_in_their_language(
        browser, live_server, page, world, tmp_path):
    # One test for both agents: loading the shipped content and rendering two certificates once each.
    text, data, content = certify_in_the_browser(page, world["pt"], "pt", tmp_path)
    assert "Certificado de conclusão" in text and "Certificate of completion" not in text
    assert "Língua de estudo e avaliação: Português" in text
    assert "Joana Ferreira" in text
    # The course and the quiz are named as the agent read and took them: each title is printed
    # beside its content version (the two titles are the same words in Portuguese).
    assert data["language"] == "pt"
    [course], [quiz] = data["courses"], data["quizzes"]
    assert (course["title"], quiz["title"]) == (content["course_title"], content["quiz_title"])
    assert f"{content['course_title']} {course['version'][:12]}" in text
    assert f"{content['quiz_title']} {quiz['version'][:12]}" in text
    assert SOURCE_TITLE not in text

    # The Arabic-speaking agent, on a phone, in a browser of her own.
    for old in SHOTS.glob("ar-*.png"):
        old.unlink()
    phone = browser.new_context(base_url=live_server, viewport=PHONE)
    try:
        on_phone = phone.new_page()
        on_phone.set_default_timeout(10_000)
        text, data, content = certify_in_the_browser(on_phone, world["ar"], "ar", tmp_path)
    finally:
        phone.close()
    assert "شهادة إتمام" in text and "Certificate of completion" not in text
    # (pdftotext puts the colon of a right-to-left line on the wrong side of its space)
    assert re.search("لغة الدراسة والتقييم ?: ?العربية", text), text
    assert data["language"] == "ar"
    [course], [quiz] = data["courses"], data["quizzes"]
    assert (course["title"], quiz["title"]) == (content["course_title"], content["quiz_title"])
    assert re.search(printed_with_version(content["course_title"], course["version"]), text), text
    assert re.search(printed_with_version(content["quiz_title"], quiz["version"]), text), text
    assert SOURCE_TITLE not in text
    for name in ("lesson", "question", "result"):
        assert (SHOTS / f"ar-{name}.png").stat().st_size > 10_000
