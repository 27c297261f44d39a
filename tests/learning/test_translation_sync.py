"""Loading the files does not silently undo a translation a trainer saved in the browser (#19).

The browser's row stays current while the files hold a translation loaded before it (or none),
and the load lists it as kept, as it does for courses published in the browser. New text in the
files wins, and so do the files with `files_win`."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.learning.models import ContentTranslation
from lms.learning.sync import load_content
from tests import factories

KEY = ("course", "gdpr-essentials", "fr")


@pytest.fixture
def root(app, tmp_path: Path) -> Path:
    """gdpr-essentials with its translations, loaded from a folder the test may edit."""
    root = tmp_path / "content"
    (root / "quizzes").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "courses" / "gdpr-essentials", root / "courses" / "gdpr-essentials")
    for file in (PROJECT_ROOT / "quizzes").glob("gdpr-essentials*.yaml"):
        shutil.copy(file, root / "quizzes")
    load_content(root)
    db.session.commit()
    return root


def _current() -> ContentTranslation:
    kind, slug, language = KEY
    return db.session.scalars(select(ContentTranslation).where(
        ContentTranslation.kind == kind, ContentTranslation.slug == slug, ContentTranslation.language == language,
        ContentTranslation.current.is_(True))).one()


@pytest.fixture
def saved_in_browser(root) -> ContentTranslation:
    """A trainer's French course saved after the files' one was loaded (as the editor saves it)."""
    files_row = _current()
    files_row.current = False
    row = factories.translation(*KEY, dict(files_row.text, title="Le RGPD, revu en ligne"),
                                translation_of=files_row.translation_of)
    row.edited_by = factories.user(Role.TRAINER)
    db.session.commit()
    return row


def test_the_files_translation_loaded_before_does_not_replace_the_browsers(root, saved_in_browser):
    report = load_content(root)
    db.session.commit()
    assert _current().id == saved_in_browser.id
    assert report.kept == [f"course gdpr-essentials in fr {saved_in_browser.content_hash[:12]} (the files differ)"]
    assert not [item for item in report.created + report.restored if " in fr " in item and "course" in item]
    assert "Kept 1 item(s) as published in the browser" in report.summary()


def test_with_files_win_the_files_translation_is_current_again(root, saved_in_browser):
    report = load_content(root, files_win=True)
    db.session.commit()
    current = _current()
    assert current.id != saved_in_browser.id and current.edited_by_id is None
    assert current.text["title"] == "L’essentiel du RGPD pour les centres de contacts"
    assert report.kept == [] and f"course gdpr-essentials in fr {current.content_hash[:12]}" in report.restored


def test_a_new_translation_in_the_files_wins_over_the_browsers(root, saved_in_browser):
    path = root / "courses" / "gdpr-essentials" / "course.fr.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "title: L’essentiel du RGPD pour les centres de contacts", "title: Le RGPD en centre de contacts"),
        encoding="utf-8")
    report = load_content(root)
    db.session.commit()
    current = _current()
    assert current.text["title"] == "Le RGPD en centre de contacts" and current.edited_by_id is None
    assert report.kept == [] and f"course gdpr-essentials in fr {current.content_hash[:12]}" in report.created


def test_a_translation_saved_in_the_browser_and_missing_from_the_files_is_kept(root, saved_in_browser):
    for path in (root / "courses" / "gdpr-essentials").glob("*.fr.*"):
        path.unlink()
    report = load_content(root)
    db.session.commit()
    assert _current().id == saved_in_browser.id
    assert report.kept == [f"course gdpr-essentials in fr {saved_in_browser.content_hash[:12]} (not in the files)"]
    assert "course gdpr-essentials in fr" not in report.archived

    report = load_content(root, files_win=True)
    db.session.commit()
    assert report.archived == ["course gdpr-essentials in fr"]
    assert db.session.scalar(select(ContentTranslation).where(ContentTranslation.language == "fr",
                                                              ContentTranslation.kind == "course",
                                                              ContentTranslation.current.is_(True))) is None
