"""Screens meant for trainers speak their language, not the developers' (#19): content hashes,
slugs and CLI commands appear only inside an "Advanced" disclosure, new items take their address
from their title, and publishing lands on the item as agents now see it."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from lms.authoring import drafts
from lms.certification.models import ProgrammeVersion
from lms.extensions import db
from lms.learning.models import CourseVersion, QuizVersion
from tests.authoring.conftest import form_token

SLUGS = ("recording-calls", "recorded-lines")  # the fixture's course and quiz, and its programme
_SPOKEN_ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "aria-description"}
_UNREAD = {"script", "style", "textarea"}  # a textarea holds the trainer's own content


class _TrainerText(HTMLParser):
    """What a trainer reads or hears on a page, leaving out <details class="advanced">."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.advanced = 0  # depth of <details> elements inside an Advanced one (0: outside)
        self.unread = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "details" and (self.advanced or "advanced" in (attributes.get("class") or "").split()):
            self.advanced += 1
        if tag in _UNREAD:
            self.unread += 1
        if not self.advanced:
            self.text += [value for name, value in attrs if name in _SPOKEN_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag == "details" and self.advanced:
            self.advanced -= 1
        if tag in _UNREAD and self.unread:
            self.unread -= 1

    def handle_data(self, data):
        if not self.advanced and not self.unread and data.strip():
            self.text.append(data.strip())


def trainer_text(html: str) -> str:
    reader = _TrainerText()
    reader.feed(html)
    return "\n".join(reader.text)


def _hashes() -> set[str]:
    found = set()
    for model in (CourseVersion, QuizVersion, ProgrammeVersion):
        found |= {digest[:12] for digest in db.session.scalars(select(model.content_hash))}
    return found


def _open_drafts(author) -> None:
    token = form_token(author, "/authoring/")
    for kind, slug in (("course", "recording-calls"), ("quiz", "recording-calls"), ("programme", "recorded-lines")):
        assert author.post(f"/authoring/{kind}/{slug}/open", data={"csrf_token": token}).status_code == 302


def test_the_scanner_sees_what_a_trainer_reads_and_not_the_advanced_part():
    page = ('<h1>Check and publish: Recording calls</h1><a href="/authoring/course/recording-calls">Edit</a>'
            '<input value="recording-calls"><details class="advanced"><summary>Advanced</summary>'
            '<p>Slug: recording-calls <details><summary>more</summary>3f2a9c1b7d4e</details></p></details>'
            '<button aria-label="Compare from 3f2a9c1b7d4e">From</button>')
    text = trainer_text(page)
    assert "Check and publish: Recording calls" in text and "Compare from 3f2a9c1b7d4e" in text
    assert "Slug:" not in text and "more" not in text and "/authoring/course" not in text


def test_authoring_pages_keep_hashes_slugs_and_commands_under_advanced(app, content, author):
    _open_drafts(author)
    sim = "/authoring/quizzes/recording-calls/simulations/sim-impostor"
    pages = [
        "/authoring/", "/authoring/course/new", "/authoring/quizzes/new", "/authoring/programme/new",
        "/authoring/course/recording-calls", "/authoring/course/recording-calls/lessons/new",
        "/authoring/course/recording-calls/lessons/02-telling-callers.md",
        "/authoring/course/recording-calls/file", "/authoring/programme/recorded-lines/file",
        "/authoring/programme/recorded-lines",
        "/authoring/course/recording-calls/publish", "/authoring/quiz/recording-calls/publish",
        "/authoring/programme/recorded-lines/publish",
        "/authoring/course/recording-calls/versions", "/authoring/quiz/recording-calls/versions",
        "/authoring/course/recording-calls/diff", "/authoring/course/recording-calls/diff?to=draft",
        "/authoring/course/recording-calls/preview", "/authoring/course/recording-calls/preview/telling-callers",
        "/authoring/quizzes/recording-calls", "/authoring/quizzes/recording-calls/questions/verbal-sar",
        "/authoring/quizzes/recording-calls/questions/new/single_choice", sim, f"{sim}/nodes/n1",
        "/authoring/quizzes/recording-calls/preview", "/analysis/quizzes", "/analysis/quizzes/recording-calls",
    ]
    hashes = _hashes() | {d.base_hash[:12] for d in db.session.scalars(select(drafts.Draft)) if d.base_hash}
    assert hashes  # the check below means something only with versions to look for
    for url in pages:
        response = author.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        text = trainer_text(html)
        assert not [h for h in hashes if h in text], f"a content hash outside Advanced on {url}"
        assert not [s for s in SLUGS if re.search(rf"(?<![\w-]){s}(?![\w-])", text)], f"a slug outside Advanced on {url}"
        assert "flask " not in text, f"a CLI command outside Advanced on {url}"
    # Still there for support, one click away.
    publish = author.get("/authoring/course/recording-calls/publish").get_data(as_text=True)
    advanced = publish[publish.index('<details class="advanced">'):]
    assert "flask lms content check" in advanced and "recording-calls" in advanced
    history = author.get("/authoring/course/recording-calls/versions").get_data(as_text=True)
    assert "Version 1" in trainer_text(history)
    assert any(h in history[history.index('<details class="advanced">'):] for h in hashes)


def test_a_new_course_takes_its_address_from_its_title(app, content, author):
    token = form_token(author, "/authoring/course/new")
    created = author.post("/authoring/course/new", data={
        "csrf_token": token, "title": "Card payments: the pause button", "summary": "Taking cards safely.",
        "audience": "Agents", "estimated_minutes": "10", "phases": ["during"], "quiz": "recording-calls",
        "key_points": "Never repeat the card number."})
    assert created.status_code == 302
    assert created.location.endswith("/authoring/course/card-payments-the-pause-button/lessons/new")
    # A title with no Latin letters gives no address: the trainer is asked for one, under Advanced.
    refused = author.post("/authoring/course/new", data={
        "csrf_token": token, "title": "الدفع بالبطاقة", "summary": "—", "audience": "Agents",
        "estimated_minutes": "10", "phases": ["during"], "quiz": "", "key_points": "One"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and '<details class="advanced" open>' in html
    assert "no Latin letters or digits to make the address from" in html


def test_the_closing_quiz_is_chosen_by_its_title(app, content, author):
    html = author.get("/authoring/course/new").get_data(as_text=True)
    quiz_title = db.session.scalar(select(QuizVersion.title))
    assert f'<option value="recording-calls">{quiz_title}</option>' in html


def test_publishing_a_course_lands_on_the_course_page(app, content, author):
    _open_drafts(author)
    token = form_token(author, "/authoring/course/recording-calls/publish")
    response = author.post("/authoring/course/recording-calls/publish", data={"csrf_token": token},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    title = db.session.scalar(select(CourseVersion.title))
    assert response.status_code == 200 and response.request.path == "/courses/recording-calls"
    assert f'<h1 dir="auto">{title}</h1>' in html
    assert f"The course “{title}” is published" in html


def test_publishing_a_quiz_lands_on_the_quiz_page(app, content, author):
    _open_drafts(author)
    token = form_token(author, "/authoring/quiz/recording-calls/publish")
    response = author.post("/authoring/quiz/recording-calls/publish", data={"csrf_token": token},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    title = db.session.scalar(select(QuizVersion.title))
    assert response.status_code == 200 and response.request.path == "/quizzes/recording-calls"
    assert title in html and f"The quiz “{title}” is published" in html


def test_publishing_a_programme_lands_on_its_history(app, content, author):
    """A programme has no page of its own for agents: its version history shows it."""
    _open_drafts(author)
    token = form_token(author, "/authoring/programme/recorded-lines/publish")
    response = author.post("/authoring/programme/recorded-lines/publish", data={"csrf_token": token},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    title = db.session.scalar(select(ProgrammeVersion.title))
    assert response.status_code == 200 and response.request.path == "/authoring/programme/recorded-lines/versions"
    assert f"Version history: {title}" in html and f"The programme “{title}” is published." in html
