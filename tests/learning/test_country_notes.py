"""Agents see the national rules for their organisation's country."""
from __future__ import annotations

import shutil

from flask import Flask
import pytest

from lms.accounts.models import Role
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.models import CountryNote
from lms.learning.sync import load_content
from tests import factories


@pytest.fixture
def loaded(app: Flask):
    load_content(PROJECT_ROOT)
    db.session.commit()


def _agent_in(country: str, login_as):
    person = factories.user(Role.AGENT, factories.organisation(country=country))
    db.session.commit()
    login_as(person)
    return person


def test_an_agent_in_germany_reads_the_german_rules(client, login_as, loaded):
    _agent_in("DE", login_as)
    html = client.get("/country-rules").get_data(as_text=True)
    assert "<h1>Rules in Germany</h1>" in html and "Your organisation is in Germany." in html
    assert "§201" in html
    assert "Rules in Morocco" not in html and 'href="/country-rules/ma"' in html


def test_a_partner_site_in_morocco_sees_law_09_08(client, login_as, loaded):
    _agent_in("MA", login_as)
    html = client.get("/country-rules").get_data(as_text=True)
    assert "<h1>Rules in Morocco</h1>" in html and "Law 09-08" in html and "§201" not in html


def test_a_country_without_notes_says_so(client, login_as, loaded):
    _agent_in("PT", login_as)
    html = client.get("/country-rules").get_data(as_text=True)
    assert "There are no national notes for your organisation's country (PT) yet" in html


def test_other_countries_can_be_opened_and_unknown_ones_are_404(client, login_as, loaded):
    _agent_in("PT", login_as)
    html = client.get("/country-rules/de").get_data(as_text=True)
    assert "<h1>Rules in Germany</h1>" in html and "your organisation is in PT" in html
    assert client.get("/country-rules/xx").status_code == 404


def test_the_lesson_a_note_concerns_points_to_it_for_that_country_only(client, login_as, loaded):
    _agent_in("DE", login_as)
    lesson = "/courses/recording-calls/lessons/telling-callers"
    assert "national rules add to this lesson" in client.get(lesson).get_data(as_text=True)
    unrelated = client.get("/courses/call-security/lessons/secure-workstation").get_data(as_text=True)
    assert "national rules add to this lesson" not in unrelated


def test_an_agent_elsewhere_sees_no_german_callout(client, login_as, loaded):
    _agent_in("PT", login_as)
    html = client.get("/courses/recording-calls/lessons/telling-callers").get_data(as_text=True)
    assert "national rules add to this lesson" not in html


def test_agent_home_links_to_the_rules(client, login_as, loaded):
    _agent_in("DE", login_as)
    assert 'href="/country-rules"' in client.get("/").get_data(as_text=True)


def test_a_note_removed_from_the_files_is_archived_and_no_longer_shown(app, client, login_as, loaded,
                                                                       tmp_path):
    root = tmp_path / "content"
    for folder in ("courses", "quizzes", "programmes"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    (root / "courses" / "_country-notes" / "de.md").unlink()
    report = load_content(root)
    db.session.commit()
    assert "country note DE" in report.archived
    assert db.session.get(CountryNote, db.session.query(CountryNote.id).filter_by(country="DE").scalar()) \
        .archived_at is not None
    _agent_in("DE", login_as)
    assert "There are no national notes" in client.get("/country-rules").get_data(as_text=True)
