"""Country notes: the national rules beside the GDPR, one Markdown file per country.

`courses/_country-notes/<cc>.md` holds the notes for one country, named by its ISO 3166-1
alpha-2 code in lower case (`de.md`). Its front matter gives the country's name as `title`,
the `references` it relies on and, optionally, the `lessons` it concerns as
`course-slug/lesson-id`; the body is `## ` sections that each cite a source. Agents see the
notes for their organisation's country, and a link to them on the lessons they concern.

Pure functions like the rest of the package: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from lms.checked_yaml.fields import Fields, Report, closed, describe, list_of, text_value
from lms.checked_yaml.yaml_lines import LineDict

from .markdown import parse_tokens
from .model import ContentTree, _source, sha256_json
from .parser import Problem, _Reader, _str, _strs
from .validate import _check_markdown, _check_sections, _references

COUNTRY_NOTES_FOLDER = "_country-notes"
_CODE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True, kw_only=True)
class CountryNote:
    """The national rules of one country, as agents working there read them."""

    country: str                   # ISO 3166-1 alpha-2, upper case (from the file name)
    path: str
    title: str                     # the country's name
    references: tuple[str, ...]
    lessons: tuple[str, ...]       # "course-slug/lesson-id" of the lessons the note concerns
    body: str
    body_line: int
    source: LineDict = _source()

    @property
    def content_hash(self) -> str:
        """SHA-256 of the front matter and body."""
        return sha256_json({"front_matter": self.source, "body": self.body})


def parse_country_notes(root: Path) -> tuple[dict[str, CountryNote], list[Problem]]:
    """Every note under root/courses/_country-notes/, keyed by upper-case country code.

    Like parse_tree, it reports only what stops a file being read; `check_country_notes`
    reports the rest.
    """
    reader = _Reader(root)
    notes: dict[str, CountryNote] = {}
    for path in sorted((root / "courses" / COUNTRY_NOTES_FOLDER).glob("*.md")):
        parsed = reader.front_matter(path)
        if parsed is None:
            continue
        data, body, body_line = parsed
        notes[path.stem.upper()] = CountryNote(
            country=path.stem.upper(), path=reader.rel(path), title=_str(data, "title"),
            references=_strs(data, "references"), lessons=_strs(data, "lessons"),
            body=body, body_line=body_line, source=data,
        )
    return notes, reader.problems


def _lesson_ref(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str) or value.count("/") != 1:
        yield line, f"must be 'course-slug/lesson-id', got {describe(value)}"


_NOTE_FIELDS: Fields = {
    "title": (True, text_value),
    "references": (True, _references),
    "lessons": (False, list_of(_lesson_ref, unique=True)),
}


def _check_note(note: CountryNote, tree: ContentTree, problems: list[Problem]) -> None:
    report = Report(note.path, problems)
    if not _CODE.match(Path(note.path).stem):
        report.add(0, f"country note file name {describe(Path(note.path).stem)} must be a "
                      "two-letter ISO 3166-1 country code in lower case, such as 'de.md'")
    closed(report, "", note.source, 1, _NOTE_FIELDS)
    tokens = parse_tokens(note.body)
    # Notes carry no images: an empty image map makes any image reference a problem.
    _check_markdown(report, tokens, note.body_line, {}, f"courses/{COUNTRY_NOTES_FOLDER}/")
    _check_sections(report, tokens, note.body, note.body_line)
    lessons = note.source.get("lessons")
    for index, ref in enumerate(note.lessons):
        course_slug, _, lesson_id = ref.partition("/")
        course = tree.courses.get(course_slug)
        if course is None or lesson_id not in {lesson.id for lesson in course.lessons}:
            line = lessons.line_of(index) if hasattr(lessons, "line_of") else 1
            report.add(line, f"'lessons' names {describe(ref)}, but there is no lesson "
                             f"'{lesson_id}' in a course '{course_slug}'")


def check_country_notes(notes: dict[str, CountryNote], tree: ContentTree) -> list[Problem]:
    """Problems with the parsed country notes, against `tree` (their lessons must exist)."""
    problems: list[Problem] = []
    for note in notes.values():
        _check_note(note, tree, problems)
    return problems
