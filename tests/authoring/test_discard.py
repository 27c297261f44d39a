"""Discarding a draft goes through a page that says what is lost, and is audited."""
from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Role
from lms.audit.models import AuditEvent
from lms.authoring import drafts
from lms.authoring.models import Draft
from lms.extensions import db
from tests import factories
from tests.authoring.conftest import form_token
from tests.conftest import login

DISCARD = "/authoring/course/recording-calls/discard"
LESSON = "courses/recording-calls/02-telling-callers.md"


def _changed_draft(trainer) -> Draft:
    draft = drafts.open_draft("course", "recording-calls", trainer)
    drafts.save_files(draft, {LESSON: draft.files[LESSON] + "\nA line the trainer added.\n"}, draft.revision, trainer)
    db.session.commit()
    return draft


def test_the_editors_lead_to_the_confirmation_which_says_what_is_lost(app, content, trainer, author):
    _changed_draft(trainer)
    for editor in ("/authoring/course/recording-calls", "/authoring/course/recording-calls/file"):
        html = author.get(editor).get_data(as_text=True)
        assert f'<a href="{DISCARD}" role="button" class="contrast outline">Discard this draft…</a>' in html, editor
        assert f'action="{DISCARD}"' not in html, editor
    page = author.get(DISCARD).get_data(as_text=True)
    assert "<h1>Discard the draft of “Recording calls" in page
    assert "Every change saved in this draft is lost: 1 file differs from the published version." in page
    assert f"<li>{LESSON}</li>" in page and 'href="/authoring/course/recording-calls/diff?to=draft"' in page
    assert "The published version stays as it is" in page and "This cannot be undone." in page
    assert "Draft revision 2, last saved" in page and f"by {trainer.name}." in page
    assert 'href="/authoring/course/recording-calls" role="button" class="secondary">Keep the draft</a>' in page
    assert db.session.scalar(select(Draft).where(Draft.slug == "recording-calls")) is not None  # a GET changes nothing


def test_the_post_discards_and_the_audit_log_records_it(app, content, trainer, author):
    _changed_draft(trainer)
    assert author.post(DISCARD).status_code == 400  # no CSRF token
    assert db.session.scalar(select(Draft).where(Draft.kind == "course")) is not None
    response = author.post(DISCARD, data={"csrf_token": form_token(author, DISCARD)})
    assert response.status_code == 302 and response.location.endswith("/authoring/")
    assert "The draft of “Recording calls" in author.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Draft).where(Draft.kind == "course")) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "draft.discarded")).one()
    assert event.actor_id == trainer.id and event.data == {"kind": "course", "slug": "recording-calls"}
    assert author.get(DISCARD).status_code == 404  # nothing left to discard


def test_an_unchanged_draft_and_a_never_published_one_say_so(app, content, trainer, author):
    drafts.open_draft("quiz", "recording-calls", trainer)
    drafts.new_draft("programme", "night-shift", trainer, {"programmes/night-shift.yaml": "title: Night shift\n"})
    db.session.commit()
    unchanged = author.get("/authoring/quiz/recording-calls/discard").get_data(as_text=True)
    assert "This draft holds no change from the published version: discarding it loses nothing." in unchanged
    new = author.get("/authoring/programme/night-shift/discard").get_data(as_text=True)
    assert "<h1>Discard the draft of “Night shift”?</h1>" in new
    assert "Nothing of it is published: discarding the draft deletes it entirely, with its 1 file." in new
    assert "The published version stays" not in new


def test_only_authors_reach_the_confirmation(app, content, trainer):
    _changed_draft(trainer)
    for role in (Role.AGENT, Role.AUDITOR, Role.PARTNER_ADMIN):
        person = factories.user(role)
        db.session.commit()
        client = app.test_client()
        login(client, person.email, factories.PASSWORD)
        token = form_token(client, "/account/security")
        assert client.get(DISCARD).status_code == 403, role
        assert client.post(DISCARD, data={"csrf_token": token}).status_code == 403, role
    assert db.session.scalar(select(Draft).where(Draft.kind == "course")) is not None
