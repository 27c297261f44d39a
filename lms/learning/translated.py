"""Which language a reader sees a course, quiz, job aid or programme in, and its text there.

The reader's interface language (lms/i18n.py) picks the item's translation when one is loaded
(lms/learning/sync.py, from the files beside the source). A translation made from the source
now published is shown as it is. One made from an earlier source is stale: its readers see the
source with a notice, unless the translation's `if_stale` says to keep showing it (with a
notice too). Without a translation the source is shown, with a notice naming its language, so
that a reader and a screen reader know (the page marks it with `lang`).

Translation rows never change (new text makes a new row), so their text is kept per process.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from flask import current_app
from sqlalchemy import bindparam, select

from lms import plain_rows
from lms.content.translations import SOURCE_LANGUAGE
from lms.extensions import db
from lms.i18n import current_language
from lms.learning.models import ContentTranslation

Notice = Literal["missing", "stale", "outdated"]


@dataclass(frozen=True)
class Shown:
    """What a reader is shown of one item.

    `translation_id` is None when the source is shown. `language` is the language of the text
    shown. `notice`: None when it is the reader's language; "missing" when there is no
    translation; "stale" when the translation is being updated and the source is shown;
    "outdated" when an outdated translation is shown (the trainer chose so).
    """

    translation_id: int | None
    language: str
    notice: Notice | None
    translation_hash: str | None = None  # the translation row's content hash, with its id a cache key

    @property
    def translated(self) -> bool:
        return self.translation_id is not None


SOURCE = Shown(None, SOURCE_LANGUAGE, None)


# shown_many's statement, built once: it runs on every page that lists or shows content to a
# reader of a translated language.
_CURRENT_TRANSLATIONS = (
    select(ContentTranslation.id, ContentTranslation.slug, ContentTranslation.translation_of,
           ContentTranslation.if_stale, ContentTranslation.content_hash)
    .where(ContentTranslation.kind == bindparam("kind"), ContentTranslation.language == bindparam("language"),
           ContentTranslation.current.is_(True), ContentTranslation.slug.in_(bindparam("slugs", expanding=True))))


def shown_many(kind: str, source_hashes: dict[str, str], language: str | None = None) -> dict[str, Shown]:
    """What a reader in `language` (the request's, by default) sees of each item, by slug.

    `source_hashes`: slug -> the content hash of the source version shown. One query."""
    language = language or current_language()
    if language == SOURCE_LANGUAGE or not source_hashes:
        return {slug: SOURCE for slug in source_hashes}
    rows = plain_rows.rows(_CURRENT_TRANSLATIONS, {"kind": kind, "language": language, "slugs": list(source_hashes)})
    found = {row.slug: row for row in rows}
    shown = {}
    for slug, source_hash in source_hashes.items():
        row = found.get(slug)
        if row is None:
            shown[slug] = Shown(None, SOURCE_LANGUAGE, "missing")
        elif row.translation_of == source_hash:
            shown[slug] = Shown(row.id, language, None, row.content_hash)
        elif row.if_stale == "translation":
            shown[slug] = Shown(row.id, language, "outdated", row.content_hash)
        else:
            shown[slug] = Shown(None, SOURCE_LANGUAGE, "stale")
    return shown


def shown_one(kind: str, slug: str, source_hash: str, language: str | None = None) -> Shown:
    """`shown_many` for one item."""
    return shown_many(kind, {slug: source_hash}, language)[slug]


def text(translation_id: int, translation_hash: str | None = None) -> dict[str, Any]:
    """A translation row's text, read once per process (rows are never edited; the hash, when
    known, keeps a cache from answering for another database's row of the same id)."""
    cache: dict[tuple, dict] = current_app.extensions.setdefault("lms.translation_text", {})
    key = (translation_id, translation_hash)
    found = cache.get(key)
    if found is None:
        found = cache[key] = db.session.scalar(
            select(ContentTranslation.text).where(ContentTranslation.id == translation_id)) or {}
    return found


def shown_text(shown: Shown) -> dict[str, Any]:
    """The text of what is shown: the translation's, or empty (the source's own text stands)."""
    return text(shown.translation_id, shown.translation_hash) if shown.translated else {}


def titles(shown: dict[str, Shown]) -> dict[str, str]:
    """The translated title of each item shown translated, by slug (for lists)."""
    return {slug: title for slug, each in shown.items()
            if isinstance(title := shown_text(each).get("title"), str) and title.strip()}


def titles_in(kind: str, slugs: Iterable[str], language: str) -> dict[str, str]:
    """The title each item's current translation into `language` gives it, by slug (a document
    in that language names the courses and quizzes it lists so)."""
    if language == SOURCE_LANGUAGE:
        return {}
    rows = db.session.execute(select(ContentTranslation.slug, ContentTranslation.id, ContentTranslation.content_hash)
                              .where(ContentTranslation.kind == kind, ContentTranslation.language == language,
                                     ContentTranslation.current.is_(True),
                                     ContentTranslation.slug.in_(list(slugs)))).all()
    return {row.slug: title for row in rows
            if isinstance(title := text(row.id, row.content_hash).get("title"), str) and title.strip()}
