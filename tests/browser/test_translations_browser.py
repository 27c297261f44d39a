"""Translations in Chromium (#19): a trainer finds the French course out of date, sees what changed
in the source beside the translation, edits one field and saves it up to date."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.models import Role
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.models import ContentTranslation
from lms.learning.sync import load_content
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("LMS_SCREENSHOTS")  # a folder to keep screenshots in, when looking at the pages
WIDTHS = {"desktop": 1280, "phone": 390}


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def _stale_french_course(tmp_path: Path) -> None:
    """gdpr-essentials loaded, then its source's title changed: the translations are now stale."""
    root = tmp_path / "content"
    (root / "quizzes").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "courses" / "gdpr-essentials", root / "courses" / "gdpr-essentials")
    for file in (PROJECT_ROOT / "quizzes").glob("gdpr-essentials*.yaml"):
        shutil.copy(file, root / "quizzes")
    load_content(root)
    course = root / "courses" / "gdpr-essentials" / "course.yaml"
    course.write_text(course.read_text().replace("title: GDPR essentials for contact centres",
                                                 "title: GDPR essentials for every contact centre"))
    load_content(root)


def test_a_trainer_brings_an_out_of_date_translation_up_to_date(app, page, tmp_path):
    _stale_french_course(tmp_path)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    sign_in(page, trainer.email, factories.PASSWORD)

    page.goto("/authoring/")
    page.get_by_role("button", name="Translations").click()  # a link styled as the page's other actions
    page.get_by_role("heading", name="Translations", level=1).wait_for()
    assert "4 translations are out of date." in page.locator(".translation-summary").inner_text()
    _shoot(page, "translations-overview")

    page.get_by_role("link", name="Out of date (French: GDPR essentials for every contact centre)").first.click()
    # The course's title: its label says the source's changed (each lesson's title comes later).
    title = page.get_by_role("textbox", name="Title Changed in the source", exact=True)
    assert title.get_attribute("lang") == "fr" and title.get_attribute("dir") == "auto"
    changed = page.locator(".translation-row.changed")
    assert changed.count() == 1 and "GDPR essentials for contact centres" in changed.inner_text()  # as it was
    _shoot(page, "translation-editor")

    title.fill("L’essentiel du RGPD pour tous les centres de contacts")
    page.get_by_role("button", name="Save translation").click()
    page.get_by_text("Translation saved.").wait_for()
    assert page.locator(".translation-status .badge").inner_text() == "Up to date"
    expect(page.get_by_role("link", name="Download the translation: its course file and 5 lesson files (ZIP)")).to_be_visible()
    row = db.session.scalar(select(ContentTranslation).where(
        ContentTranslation.kind == "course", ContentTranslation.language == "fr", ContentTranslation.current.is_(True)))
    assert row.text["title"] == "L’essentiel du RGPD pour tous les centres de contacts"
    assert row.edited_by_id == trainer.id

    trainer.language = "ar"  # the same pages, right to left
    db.session.commit()
    page.goto("/authoring/translations")
    assert page.locator("html").get_attribute("dir") == "rtl"
    _shoot(page, "translations-overview-ar")
    page.goto("/authoring/translations/course/gdpr-essentials/es")
    _shoot(page, "translation-editor-ar")
