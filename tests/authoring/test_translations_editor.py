"""Translations in authoring (#19): which are out of date, and the side-by-side editor whose save
makes a new current translation that readers see, and whose files load as the same text."""
from __future__ import annotations

import html
import io
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.models import ContentTranslation, Course
from lms.learning.sync import load_content
from tests import factories
from tests.authoring.test_trainer_screens import trainer_text
from tests.evidence.test_certificate_download import statements

EDITOR = "/authoring/translations/{kind}/{slug}/{language}"
FIXTURE = Path(__file__).resolve().parents[1] / "content" / "fixtures" / "valid"


class _Form(HTMLParser):
    """The fields of the page's translation form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._inside: tuple[str, str] | None = None  # (tag, name) of the open textarea or option
        self._select: str | None = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "translation-form" in (attrs.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and attrs.get("type") == "hidden":
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._inside = ("textarea", attrs["name"])
            self.values[attrs["name"]] = ""
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and "selected" in attrs:
            self.values[self._select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._inside = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._inside:
            self.values[self._inside[1]] += data


def form_of(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    # A browser drops the one newline that follows <textarea>.
    return {name: value[1:] if value.startswith("\n") else value for name, value in parser.values.items()}


def _current(kind: str, slug: str, language: str) -> ContentTranslation | None:
    return db.session.scalar(select(ContentTranslation).where(
        ContentTranslation.kind == kind, ContentTranslation.slug == slug, ContentTranslation.language == language,
        ContentTranslation.current.is_(True)))


def _agent(language: str):
    person = factories.user(Role.AGENT)
    person.language = language
    db.session.commit()
    return person


@pytest.fixture
def shipped(app):
    """All the repository's content, loaded as `make run` loads it."""
    load_content(PROJECT_ROOT)
    db.session.commit()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """gdpr-essentials (course and quiz, with their translations) and one job aid, in a folder a test may edit."""
    root = tmp_path / "content"
    (root / "courses" / "_job-aids").mkdir(parents=True)
    (root / "quizzes").mkdir()
    shutil.copytree(PROJECT_ROOT / "courses" / "gdpr-essentials", root / "courses" / "gdpr-essentials")
    for file in (PROJECT_ROOT / "quizzes").glob("gdpr-essentials*.yaml"):
        shutil.copy(file, root / "quizzes")
    for file in (PROJECT_ROOT / "courses" / "_job-aids").glob("a-child-is-on-the-line*.md"):
        shutil.copy(file, root / "courses" / "_job-aids")
    return root


@pytest.fixture
def loaded(app, root: Path) -> Path:
    load_content(root)
    db.session.commit()
    return root


@pytest.fixture
def author(client: FlaskClient, login_as):
    trainer = factories.user(Role.TRAINER, name="Tess Trainer")
    db.session.commit()
    login_as(trainer)
    return trainer


def _cell(page: str, title: str, column: int) -> str:
    """The text of one language's cell (1: French, 2: Spanish, 3: Portuguese, 4: Arabic) on an item's row."""
    row = re.search(rf'<tr>\s*<th scope="row"[^>]*>{re.escape(title)}</th>(.*?)</tr>', page, re.S)
    assert row, f"no row for {title}"
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cells[column - 1])).split()).replace(" )", ")")


# -- the overview ---------------------------------------------------------------------------------

def test_the_overview_shows_each_translation_state_from_the_loaded_content(client, shipped, author):
    french = _current("course", "gdpr-essentials", "fr")
    french.current = False  # the French course is made from an earlier source: out of date
    factories.translation("course", "gdpr-essentials", "fr", french.text, translation_of="0" * 64)
    spanish = _current("quiz", "gdpr-essentials", "es")
    spanish.current = False  # the Spanish quiz too, but the trainer chose to keep showing it
    factories.translation("quiz", "gdpr-essentials", "es", spanish.text, translation_of="1" * 64,
                          if_stale="translation")
    db.session.commit()

    assert 'href="/authoring/translations"' in client.get("/authoring/").get_data(as_text=True)
    page = client.get("/authoring/translations").get_data(as_text=True)
    assert "2 translations are out of date." in page and "1 of them is still shown to readers" in page
    course = "GDPR essentials for contact centres"
    changed = db.session.scalar(select(Course).where(Course.slug == "gdpr-essentials")).current_version.created_at
    assert _cell(page, course, 1).startswith("Out of date (French: GDPR essentials for contact centres) source changed")
    assert changed.strftime("%Y") in _cell(page, course, 1)
    assert _cell(page, course, 2).startswith("Up to date")
    quiz = page[page.index('id="caption-quiz"'):page.index('id="caption-job_aid"')]
    assert _cell(quiz, course, 2).startswith("Shown as outdated (Spanish")
    assert _cell(quiz, course, 4).startswith("Up to date (Arabic")
    assert _cell(page, "Handling requests from callers", 3).startswith("Not translated (Portuguese")
    assert _cell(page, "A child is on the line", 1).startswith("Up to date")
    assert 'href="/authoring/translations/course/handling-requests/pt"' in page


def test_the_overview_costs_two_queries_per_kind_however_many_items(client, shipped, author):
    assert client.get("/authoring/translations").status_code == 200
    with statements() as seen:
        page = client.get("/authoring/translations").get_data(as_text=True)
    assert page.count('<th scope="row"') >= 6 + 6 + 23  # courses, quizzes and job aids
    assert len(seen) == 1 + 3 * 2, seen  # the session, then each kind's items and their translations


# -- the editor -------------------------------------------------------------------------------------

def test_the_editor_shows_the_source_beside_the_translation(client, loaded, author):
    page = client.get(EDITOR.format(kind="course", slug="gdpr-essentials", language="fr")).get_data(as_text=True)
    assert "Up to date" in page and "Loaded from the content files" in page
    assert re.search(r'<div class="source-text" id="s-title" lang="en" dir="auto">GDPR essentials for contact '
                     r'centres</div>', page)
    assert re.search(r'<textarea id="t-title" name="title" lang="fr" dir="auto"[^>]*>\nL’essentiel du RGPD', page)
    # One group per lesson, each with its title, key points and body, in reading order.
    headings = re.findall(r'<h2 id="group-\d+">([^<]+)', page)
    assert [heading.strip() for heading in headings] == ["Course"] + [f"Lesson {n}" for n in range(1, 6)]
    body = form_of(page)["lessons/principles/body"]
    assert body.startswith("## Transparence et loyauté dès la première phrase")
    assert "Download the translation: its course file and 5 lesson files (ZIP)" in page
    advanced = page[page.index('<details class="advanced">'):]
    assert "<li>courses/gdpr-essentials/course.fr.yaml</li>" in advanced
    assert "<li>courses/gdpr-essentials/01-principles.fr.md</li>" in advanced


def test_a_quiz_shows_each_item_with_its_options_in_order(client, loaded, author):
    page = client.get(EDITOR.format(kind="quiz", slug="gdpr-essentials", language="ar")).get_data(as_text=True)
    form = form_of(page)
    assert list(form)[3:8] == ["title", "description", "questions/ess-before-01/prompt",
                               "questions/ess-before-01/options/copy-and-delete/text",
                               "questions/ess-before-01/options/copy-and-delete/feedback"]
    assert '<label class="translation-label" for="t-questions/ess-before-01/options/copy-and-delete/feedback">' \
           'Option 1, Feedback</label>' in page
    assert 'lang="ar" dir="auto"' in page


def test_saving_makes_a_new_current_translation_that_agents_read(client, loaded, author, login_as):
    url = EDITOR.format(kind="course", slug="gdpr-essentials", language="fr")
    before = _current("course", "gdpr-essentials", "fr")
    form = form_of(client.get(url).get_data(as_text=True))
    form["title"] = "Le RGPD au quotidien des centres de contacts"
    form["lessons/consent/key_points/0"] += "\r\n"  # a browser's line end, cleaned away

    response = client.post(url, data=form)
    assert response.status_code == 302 and response.location.endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "Translation saved." in page and "Saved here by Tess Trainer" in page
    row = _current("course", "gdpr-essentials", "fr")
    source_hash = db.session.scalar(select(Course).where(Course.slug == "gdpr-essentials")).current_version.content_hash
    assert row.id != before.id and row.edited_by_id == author.id
    assert row.translation_of == source_hash and row.text["title"] == "Le RGPD au quotidien des centres de contacts"
    assert row.text["lessons"]["consent"]["key_points"] == before.text["lessons"]["consent"]["key_points"]
    db.session.refresh(before)
    assert before.current is False  # kept for attempts, no longer shown
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "translation.saved")).one()
    assert event.data["language"] == "fr" and event.data["content_hash"] == row.content_hash

    client.post("/logout", data={"csrf_token": form["csrf_token"]})
    login_as(_agent("fr"))
    course_page = client.get("/courses/gdpr-essentials").get_data(as_text=True)
    assert "Le RGPD au quotidien des centres de contacts" in course_page


def test_saving_the_same_text_again_makes_no_new_row(client, loaded, author):
    url = EDITOR.format(kind="job_aid", slug="a-child-is-on-the-line", language="es")
    loaded_from_files = _current("job_aid", "a-child-is-on-the-line", "es")
    untouched = client.post(url, data=form_of(client.get(url).get_data(as_text=True)), follow_redirects=True)
    assert "Nothing changed" in untouched.get_data(as_text=True)  # the files' own text, read back the same
    assert _current("job_aid", "a-child-is-on-the-line", "es").id == loaded_from_files.id

    form = form_of(client.get(url).get_data(as_text=True))
    client.post(url, data=dict(form, title="Un niño al teléfono"))
    saved = _current("job_aid", "a-child-is-on-the-line", "es")
    form = form_of(client.get(url).get_data(as_text=True))
    response = client.post(url, data=form, follow_redirects=True)
    assert "Nothing changed" in response.get_data(as_text=True)
    assert _current("job_aid", "a-child-is-on-the-line", "es").id == saved.id != loaded_from_files.id
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "translation.saved")) == 1


def test_an_empty_field_is_refused_and_everything_typed_is_kept(client, loaded, author):
    url = EDITOR.format(kind="quiz", slug="gdpr-essentials", language="pt")
    before = _current("quiz", "gdpr-essentials", "pt")
    form = form_of(client.get(url).get_data(as_text=True))
    form["title"] = "Um título novo, ainda não guardado"
    form["questions/ess-before-01/explanation"] = "   "

    response = client.post(url, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was saved." in page
    assert re.search(r'<textarea id="t-title"[^>]*>\nUm título novo, ainda não guardado</textarea>', page)
    assert re.search(r'id="t-questions/ess-before-01/explanation"[^>]*aria-describedby="[^"]*'
                     r'e-questions/ess-before-01/explanation" aria-invalid="true"', page)
    assert '<small id="e-questions/ess-before-01/explanation" class="field-error">Translate this text.</small>' in page
    assert _current("quiz", "gdpr-essentials", "pt").id == before.id


def test_a_lesson_must_keep_the_sources_headings(client, loaded, author):
    url = EDITOR.format(kind="course", slug="gdpr-essentials", language="es")
    form = form_of(client.get(url).get_data(as_text=True))
    form["lessons/consent/body"] = "Sin títulos: solo un párrafo.\n"
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert re.search(r'<small id="e-lessons/consent/body" class="field-error">[^<]*keep the source&#39;s headings',
                     response.get_data(as_text=True))


def test_a_translation_saved_meanwhile_by_someone_else_is_not_overwritten_silently(client, loaded, author):
    url = EDITOR.format(kind="job_aid", slug="a-child-is-on-the-line", language="fr")
    mine = form_of(client.get(url).get_data(as_text=True))
    theirs = dict(mine, title="Un enfant appelle")
    client.post(url, data=theirs)  # another tab, another trainer: the same in effect
    mine["title"] = "Un enfant au téléphone"

    response = client.post(url, data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Someone else saved this translation" in page
    assert "Un enfant au téléphone" in page
    assert _current("job_aid", "a-child-is-on-the-line", "fr").text["title"] == "Un enfant appelle"
    assert client.post(url, data=form_of(page)).status_code == 302  # saving again, knowingly, replaces theirs
    assert _current("job_aid", "a-child-is-on-the-line", "fr").text["title"] == "Un enfant au téléphone"


def test_a_stale_translation_marks_what_changed_in_the_source_since(client, loaded, author):
    course_file = loaded / "courses" / "gdpr-essentials" / "course.yaml"
    course_file.write_text(course_file.read_text().replace("title: GDPR essentials for contact centres",
                                                           "title: GDPR essentials for every contact centre"))
    lesson = loaded / "courses" / "gdpr-essentials" / "03-consent.md"
    lesson.write_text(lesson.read_text().replace("\ntitle: ", "\ntitle: Revised ", 1))
    load_content(loaded)  # the source moves on; the translation files still name the earlier hash
    db.session.commit()

    url = EDITOR.format(kind="course", slug="gdpr-essentials", language="fr")
    page = client.get(url).get_data(as_text=True)
    assert "Out of date" in page and "2 fields changed in the source since this translation was made" in page
    changed = re.findall(r'<div class="translation-row changed" id="row-([^"]+)">', page)
    assert changed == ["title", "lessons/consent/title"]
    assert re.search(r'Before the change:</span>\s*<div class="source-text" lang="en" dir="auto">GDPR essentials '
                     r'for contact centres</div>', page)
    assert 'id="s-title" lang="en" dir="auto">GDPR essentials for every contact centre</div>' in page

    assert client.post(url, data=form_of(page)).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Up to date" in page and "changed in the source" not in page
    overview = client.get("/authoring/translations").get_data(as_text=True)
    assert _cell(overview, "GDPR essentials for every contact centre", 1).startswith("Up to date")


def test_a_translation_is_started_from_an_empty_column(client, app, author):
    load_content(FIXTURE)  # recording-calls has no translation
    db.session.commit()
    url = EDITOR.format(kind="course", slug="recording-calls", language="pt")
    page = client.get(url).get_data(as_text=True)
    assert "Not translated" in page and "Download" not in page
    form = form_of(page)
    assert form["translation_id"] == "" and all(form[name] == "" for name in ("title", "summary", "key_points/0"))
    sources = dict(re.findall(r'<div class="source-text" id="s-([^"]+)" lang="en" dir="auto">(.*?)</div>', page, re.S))
    for name in form:
        if name in sources:  # headings must match: a lesson "translated" with its own Markdown passes
            text = html.unescape(sources[name])
            form[name] = text if name.endswith("/body") else "PT " + text
    response = client.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _current("course", "recording-calls", "pt").text["title"].startswith("PT ")


def test_the_saved_translation_downloads_as_files_that_load_as_the_same_row(client, loaded, author):
    url = EDITOR.format(kind="course", slug="gdpr-essentials", language="pt")
    form = form_of(client.get(url).get_data(as_text=True))
    form["title"] = "O essencial do RGPD, revisto"
    form["if_stale"] = "translation"
    client.post(url, data=form)
    saved = _current("course", "gdpr-essentials", "pt")

    response = client.get(url + "/files")
    assert response.headers["Content-Disposition"] == 'attachment; filename="gdpr-essentials.pt.zip"'
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert "courses/gdpr-essentials/course.pt.yaml" in names and len(names) == 6
        archive.extractall(loaded)  # the trainer puts them beside the source
    assert "if_stale: translation" in (loaded / "courses/gdpr-essentials/course.pt.yaml").read_text()
    report = load_content(loaded)
    db.session.commit()
    assert not [item for item in report.created + report.kept if " in pt " in item]
    assert _current("course", "gdpr-essentials", "pt").id == saved.id

    quiz = client.get(EDITOR.format(kind="quiz", slug="gdpr-essentials", language="pt") + "/files")
    assert quiz.headers["Content-Disposition"] == 'attachment; filename="gdpr-essentials.pt.yaml"'
    assert quiz.get_data(as_text=True).startswith("translation_of: ")


def test_trainers_read_no_slugs_or_hashes_outside_advanced(client, loaded, author):
    hashes = {digest[:12] for digest in db.session.scalars(select(ContentTranslation.translation_of))}
    for url in ("/authoring/translations", EDITOR.format(kind="quiz", slug="gdpr-essentials", language="fr"),
                EDITOR.format(kind="course", slug="gdpr-essentials", language="fr"),
                EDITOR.format(kind="job_aid", slug="a-child-is-on-the-line", language="ar")):
        text = trainer_text(client.get(url).get_data(as_text=True))
        assert "gdpr-essentials" not in text and "a-child-is-on-the-line" not in text, url
        assert not [digest for digest in hashes if digest in text], url


@pytest.mark.parametrize("path", ["/authoring/translations/course/gdpr-essentials/en",
                                  "/authoring/translations/course/gdpr-essentials/de",
                                  "/authoring/translations/course/no-such-course/fr",
                                  "/authoring/translations/programme/agent-certification/fr"])
def test_an_unknown_item_or_language_is_not_found(client, loaded, author, path):
    assert client.get(path).status_code == 404


def test_agents_may_not_see_or_save_translations(client, loaded, login_as):
    login_as(_agent("fr"))
    url = EDITOR.format(kind="course", slug="gdpr-essentials", language="fr")
    assert client.get("/authoring/translations").status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url, data={"title": "Piraté"}).status_code in (400, 403)  # CSRF or policy: never saved
    assert client.get(url + "/files").status_code == 403
    assert _current("course", "gdpr-essentials", "fr").edited_by_id is None
