"""The programme form (#19): a trainer picks courses and quizzes by title, with a minimum score
for each quiz, sets validity and the recertification window, and the form writes the programme
file that content check and content load read. The file stays editable as text."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from html import unescape

import pytest
from sqlalchemy import select

from lms.authoring import drafts
from lms.certification.models import Programme
from lms.content import parse_tree
from lms.content.model import Requirement
from lms.extensions import db
from lms.learning.models import Course
from lms.learning.sync import load_content
from tests.authoring.conftest import REPO, form_token, revision_on
from tests.authoring.test_trainer_screens import trainer_text

FORM = "/authoring/programme/recorded-lines"
PATH = "programmes/recorded-lines.yaml"


def _open(author, slug: str = "recorded-lines") -> None:
    token = form_token(author, "/authoring/")
    assert author.post(f"/authoring/programme/{slug}/open", data={"csrf_token": token}).status_code == 302


def _fields(html: str, **changes) -> dict:
    """What a browser sends back from the form as it is shown, with `changes` on top."""
    data = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1),
            "revision": revision_on(html),
            "title": unescape(re.search(r'id="title"[^>]*value="([^"]*)"', html).group(1)),
            "description": unescape(re.search(r'<textarea[^>]*id="description"[^>]*>\r?\n?(.*?)</textarea>', html,
                                              re.S).group(1)),
            "requirements": re.findall(r'<input checked id="requirements-\d+" name="requirements" '
                                       r'type="checkbox" value="([^"]+)"', html)}
    for name in ("validity_months", "recertification_window_days", "grace_days"):
        data[name] = re.search(rf'id="{name}"[^>]*value="([^"]*)"', html).group(1)
    for name, value in re.findall(r'name="(min_score-[a-z0-9-]+)" type="number" value="([^"]*)"', html):
        data[name] = value
    data.update(changes)
    return data


def _draft_text(slug: str = "recorded-lines") -> str:
    draft = drafts.find_draft("programme", slug)
    db.session.refresh(draft)
    return draft.files[f"programmes/{slug}.yaml"]


def _checked(html: str) -> list[str]:
    return re.findall(r'<input checked id="requirements-\d+" name="requirements" type="checkbox" value="([^"]+)"', html)


def test_the_form_shows_the_drafts_requirements_by_title(app, content, author):
    _open(author)
    response = author.get(FORM)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="title"' in html and 'value="Recorded lines"' in html
    assert _checked(html) == ["course:recording-calls", "quiz:recording-calls"]
    assert re.search(r'id="min_score-recording-calls"[^>]*value="80"', html)
    text = trainer_text(html)
    assert "Course: Recording calls lawfully" in text and "Quiz: Recording calls" in text
    assert "recording-calls" not in text and "recorded-lines" not in text  # slugs only under Advanced
    advanced = html[html.index('<details class="advanced">'):]
    assert 'href="/authoring/programme/recorded-lines/file">Edit the file instead</a>' in advanced
    assert 'href="/authoring/programme/recorded-lines/discard"' in html  # its confirmation page


def test_an_unchanged_form_changes_nothing_in_the_content(app, author):
    """A folded description ends in a line break the textarea does not show: it is kept."""
    load_content(REPO)
    db.session.commit()
    _open(author, "agent-certification")
    url = "/authoring/programme/agent-certification"
    published = db.session.scalar(select(Programme).where(Programme.slug == "agent-certification")).current_version
    assert published.spec["description"].endswith("\n")
    saved = author.post(url, data=_fields(author.get(url).get_data(as_text=True)))
    assert saved.status_code == 302 and saved.location.endswith(url)
    assert drafts.parsed_draft(drafts.find_draft("programme", "agent-certification")).content_hash == \
        published.content_hash


def test_saving_writes_a_file_the_parser_reads_back_and_content_check_accepts(app, author, runner, tmp_path):
    load_content(REPO)
    db.session.commit()
    _open(author, "agent-certification")
    url = "/authoring/programme/agent-certification"
    page = author.get(url).get_data(as_text=True)
    assert _checked(page) == ["course:gdpr-essentials", "course:handling-requests", "course:call-security",
                              "quiz:gdpr-essentials", "quiz:handling-requests", "quiz:call-security"]
    wanted = ["quiz:call-security", "course:call-security", "course:recording-calls"]
    saved = author.post(url, data=_fields(page, title="Secure calls: the certificate",
                                          description="For agents on card lines.\nTwo lines of it.",
                                          validity_months="24", recertification_window_days="90", grace_days="",
                                          requirements=wanted, **{"min_score-call-security": "75"}),
                        follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Content check finds no problems." in html
    # The page shows what was stored, in the order chosen.
    assert _checked(html) == wanted and re.search(r'id="min_score-call-security"[^>]*value="75"', html)
    text = _draft_text("agent-certification")
    assert list(re.findall(r"^([a-z_]+):", text, re.M)) == [
        "title", "description", "validity_months", "recertification_window_days", "grace_days", "requirements"]
    # The parser reads back the very programme the form showed.
    for folder in ("courses", "quizzes"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "programmes").mkdir()
    (tmp_path / "programmes" / "agent-certification.yaml").write_text(text)
    programme = parse_tree(tmp_path)[0].programmes["agent-certification"]
    assert (programme.title, programme.description) == ("Secure calls: the certificate",
                                                        "For agents on card lines.\nTwo lines of it.")
    assert (programme.validity_months, programme.recertification_window_days, programme.grace_days) == (24, 90, 0)
    assert programme.requirements == (Requirement(kind="quiz", slug="call-security", min_score=75),
                                      Requirement(kind="course", slug="call-security"),
                                      Requirement(kind="course", slug="recording-calls"))
    checked = runner.invoke(args=["lms", "content", "check", str(tmp_path)])
    assert checked.exit_code == 0, checked.output


@pytest.mark.parametrize("changes, field, message", [
    ({"requirements": []}, "requirements", "Choose at least one course or quiz."),
    ({"min_score-recording-calls": "150"}, "min_score-recording-calls",
     "Give the lowest score that counts for “Recording calls”: a whole number from 1 to 100."),
    ({"requirements": ["course:recording-calls", "quiz:no-such-quiz"]}, "requirements",
     "“quiz:no-such-quiz” is not a published course or quiz you can choose: untick it."),
    ({"validity_months": "2", "recertification_window_days": "60"}, "recertification_window_days",
     "Must be less than 56 days (28 days for each month of validity)."),
], ids=["no requirement", "score out of range", "unknown id", "window too long"])
def test_a_bad_submission_shows_the_error_and_keeps_the_input(app, content, author, changes, field, message):
    _open(author)
    before = _draft_text()
    page = author.get(FORM).get_data(as_text=True)
    response = author.post(FORM, data=_fields(page, title="Kept <title>", description="Kept description",
                                              **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert f'href="#{field}"' in html  # the error summary leads to the field
    assert 'value="Kept &lt;title&gt;"' in html and "Kept description</textarea>" in html
    assert _checked(html) == changes.get("requirements", ["course:recording-calls", "quiz:recording-calls"])
    if "min_score-recording-calls" in changes:
        assert re.search(r'id="min_score-recording-calls"[^>]*value="150"', html)
    assert _draft_text() == before  # nothing was saved


def test_an_archived_course_is_not_offered_and_cannot_be_required(app, content, author):
    _open(author)
    course = db.session.scalar(select(Course).where(Course.slug == "recording-calls"))
    course.archived_at = datetime.now(timezone.utc)
    db.session.commit()
    page = author.get(FORM).get_data(as_text=True)
    # Still ticked, as the file says, and marked: the trainer sees why a save is refused.
    row = page[page.index('id="requirement-course-recording-calls"'):]
    assert "archived</span>" in row[:row.index("</li>")]
    assert "course:recording-calls" in _checked(page)
    error = re.search(r'id="requirements-error"[^>]*>([^<]*)<', page).group(1)
    assert error == "“Recording calls lawfully” is archived, so a programme cannot require it: untick it."
    refused = author.post(FORM, data=_fields(page)).get_data(as_text=True)
    assert "“Recording calls lawfully” is archived, so a programme cannot require it: untick it." in refused
    saved = author.post(FORM, data=_fields(page, requirements=["quiz:recording-calls"]))
    assert saved.status_code == 302
    assert "course:" not in _draft_text()
    # Once unticked, it is no longer offered at all.
    assert 'value="course:recording-calls"' not in author.get(FORM).get_data(as_text=True)


def test_moving_a_requirement_redraws_the_order_and_saving_keeps_it(app, content, author):
    _open(author)
    before = _draft_text()
    page = author.get(FORM).get_data(as_text=True)
    moved = author.post(FORM, data=_fields(page, move="up:quiz:recording-calls")).get_data(as_text=True)
    assert _checked(moved) == ["quiz:recording-calls", "course:recording-calls"]
    assert "Order changed. Save the programme to keep it." in moved and _draft_text() == before
    assert author.post(FORM, data=_fields(moved)).status_code == 302
    assert _draft_text().index("quiz: recording-calls") < _draft_text().index("course: recording-calls")


def test_content_check_problems_of_the_file_show_beside_their_fields(app, content, author):
    _open(author)
    draft = drafts.find_draft("programme", "recorded-lines")
    text = draft.files[PATH].replace("validity_months: 12", "validity_months: 99") + "colour: blue\n"
    drafts.save_files(draft, {PATH: text}, draft.revision, draft.created_by)
    db.session.commit()
    html = author.get(FORM).get_data(as_text=True)
    assert 'id="validity_months-error"' in html
    error = re.search(r'id="validity_months-error"[^>]*>([^<]*)<', html).group(1)
    assert "must be an integer from 1 to 60, got 99" in error
    problems = html[html.index('id="file-problems"'):]
    assert "unknown field &#39;colour&#39;" in problems and "Fix it in the file" in problems
    # The publish page leads to the field that fixes each problem, or to the file.
    publish = author.get(f"{FORM}/publish").get_data(as_text=True)
    assert f'href="{FORM}#validity_months"' in publish and f'href="{FORM}/file#text"' in publish


def test_a_second_save_from_an_old_page_is_a_conflict_that_keeps_the_typing(app, content, author):
    _open(author)
    page = author.get(FORM).get_data(as_text=True)
    assert author.post(FORM, data=_fields(page, title="First")).status_code == 302
    response = author.post(FORM, data=_fields(page, title="Second"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and 'value="Second"' in html and "Nothing was overwritten" in html
    assert "title: First" in _draft_text()


def test_a_new_programme_lands_on_the_form(app, content, author):
    token = form_token(author, "/authoring/programme/new")
    created = author.post("/authoring/programme/new", data={"csrf_token": token, "title": "Card lines"})
    assert created.status_code == 302 and created.location.endswith("/authoring/programme/card-lines")
    html = author.get(created.location).get_data(as_text=True)
    assert "Programme draft created. Now choose what it requires." in html
    assert 'value="Card lines"' in html and _checked(html) == ["course:recording-calls"]


def test_a_programme_built_in_the_form_is_published_and_can_be_assigned(app, content, author):
    token = form_token(author, "/authoring/programme/new")
    author.post("/authoring/programme/new", data={"csrf_token": token, "title": "Card lines"})
    url = "/authoring/programme/card-lines"
    saved = author.post(url, data=_fields(author.get(url).get_data(as_text=True),
                                          description="For agents who take card payments.",
                                          requirements=["course:recording-calls", "quiz:recording-calls"],
                                          **{"min_score-recording-calls": "90"}))
    assert saved.status_code == 302
    token = form_token(author, f"{url}/publish")
    published = author.post(f"{url}/publish", data={"csrf_token": token})
    assert published.status_code == 302 and drafts.find_draft("programme", "card-lines") is None
    programme = db.session.scalar(select(Programme).where(Programme.slug == "card-lines"))
    assert programme.current_version.title == "Card lines"
    assert programme.current_version.spec["requirements"] == [{"course": "recording-calls"},
                                                              {"quiz": "recording-calls", "min_score": 90}]
    assignments = author.get("/assignments").get_data(as_text=True)
    assert re.search(rf'<option[^>]*value="{programme.id}"[^>]*>Card lines</option>', assignments)


def test_a_file_the_form_cannot_show_opens_in_the_file_editor(app, content, author):
    _open(author)
    draft = drafts.find_draft("programme", "recorded-lines")
    drafts.save_files(draft, {PATH: "- a list, not a programme\n"}, draft.revision, draft.created_by)
    db.session.commit()
    response = author.get(FORM, follow_redirects=True)
    assert response.request.path == f"{FORM}/file"
    assert "The programme file is not a YAML mapping the form can show" in response.get_data(as_text=True)
