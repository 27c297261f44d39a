"""Trainers author in their own language (#19): the authoring and item-analysis pages, their
forms (labels built at import time, so lazily translated) and their messages follow the
trainer's language, plurals included (translations/authoring)."""
from __future__ import annotations

import io

import pytest
from flask import Flask
from flask_babel import force_locale, ngettext

from lms.extensions import db
from tests.authoring.conftest import FIXTURE, form_token


@pytest.fixture
def speaking(trainer):
    def choose(language: str):
        trainer.language = language
        db.session.commit()
    return choose


def test_a_french_trainer_reads_the_authoring_pages_and_quiz_form_in_french(app, content, author, speaking):
    speaking("fr")
    index = author.get("/authoring/").get_data(as_text=True)
    assert "<h1>Rédaction</h1>" in index and "Nouvelle formation" in index and "Importer dans un brouillon" in index
    assert "New course" not in index
    # Form labels and choices are made when the module is imported: they follow the reader anyway.
    editor = author.get("/authoring/quizzes/recording-calls").get_data(as_text=True)
    assert "Note de réussite (%)" in editor and "Après chaque tentative" in editor
    assert "Pass mark (%)" not in editor


def test_an_arabic_trainer_gets_the_authoring_pages_right_to_left(app, content, author, speaking):
    speaking("ar")
    html = author.get("/authoring/").get_data(as_text=True)
    assert 'dir="rtl"' in html and "<h1>التأليف</h1>" in html


def test_a_portuguese_trainer_is_told_what_was_imported_in_portuguese(app, content, author, speaking):
    speaking("pt")
    upload = (FIXTURE / "quizzes" / "recording-calls.yaml").read_bytes()
    page = author.post("/authoring/import", data={"csrf_token": form_token(author, "/authoring/"),
                                                  "upload": (io.BytesIO(upload), "recording-calls.yaml")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "1 ficheiro importado para um novo rascunho." in page


@pytest.mark.parametrize(("language", "one", "two"), [
    ("en", "1 certified agent must recertify by 31 Jan 2099.", "2 certified agents must recertify by 31 Jan 2099."),
    ("ar", "يجب على وكيل واحد حاصل على الشهادة تجديدها قبل 31 Jan 2099.",
     "يجب على وكيلَين حاصلَين على الشهادة تجديدها قبل 31 Jan 2099."),
])
def test_recertification_counts_take_the_plural_of_the_language(app: Flask, language, one, two):
    with app.test_request_context(), force_locale(language):
        counted = [ngettext("%(num)d certified agent must recertify by %(date)s.",
                            "%(num)d certified agents must recertify by %(date)s.", n, date="31 Jan 2099")
                   for n in (1, 2)]
    assert counted == [one, two]
