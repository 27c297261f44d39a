"""Read a content root into a ContentTree: pure functions, no Flask, no database.

The parser reports only what stops it reading a file (missing or unreadable
files, invalid YAML, duplicate keys, missing front matter). Everything else,
such as wrong fields and broken references, is `validate`'s job; the parser
builds the model leniently so that validation sees every file it can.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from lms.checked_yaml import yaml_lines
from lms.checked_yaml.lenient import integer as _int
from lms.checked_yaml.lenient import mappings as _maps
from lms.checked_yaml.lenient import optional_integer as _optional_int
from lms.checked_yaml.lenient import text as _str
from lms.checked_yaml.lenient import texts as _strs
from lms.checked_yaml.problems import Problem
from lms.checked_yaml.yaml_lines import LineDict
from lms.question_types import REGISTRY
from lms.question_types.base import DEFAULT_POINTS, Question

from .markdown import image_sources, is_relative_path, parse_tokens
from .model import (
    REQUIREMENT_KINDS, ContentTree, Course, DrawRule, JobAid, Lesson, Programme, Quiz, Requirement, Translation,
    review_mode,
)

JOB_AIDS_FOLDER = "_job-aids"
# A translation sits beside its source, named like it with the language before the suffix:
# course.fr.yaml, 01-principles.fr.md, quizzes/gdpr-essentials.fr.yaml. Slugs have no dots.
TRANSLATION_NAME = re.compile(r"^(?P<stem>[^.]+)\.(?P<language>[^.]+)$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")  # ISO 639-1
# The fields of a translation file that are not translated text.
TRANSLATION_FIELDS = ("translation_of", "if_stale")


class _Reader:
    """Reads files under one root, collecting problems as it goes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def add(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.rel(path), line, message))

    def text(self, path: Path) -> str | None:
        # utf-8-sig drops a byte-order mark; read_text turns CRLF into LF, so a
        # Windows checkout parses (and hashes) the same as any other.
        try:
            return path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            self.add(path, 0, f"not UTF-8 text ({error.reason} at byte {error.start})")
        except OSError as error:
            self.add(path, 0, f"cannot read file: {error.strerror}")
        return None

    def mapping(self, path: Path, text: str, what: str) -> LineDict | None:
        """Load YAML text that must be a mapping; None (and a problem) if not."""
        try:
            data, duplicates = yaml_lines.load(text)
        except yaml.YAMLError as error:
            self.add(path, yaml_lines.error_line(error), yaml_lines.error_message(error))
            return None
        for line, message in duplicates:
            self.add(path, line, message)
        if isinstance(data, LineDict):
            return data
        line = getattr(data, "line", 0)
        found = "a list" if isinstance(data, list) else "a single value"
        if data is None:
            found = "nothing"
        self.add(path, line, f"{what} must be a mapping of fields (name: value), found {found}")
        return None

    def front_matter(self, path: Path) -> tuple[LineDict, str, int] | None:
        """Split a Markdown file into (front matter, body, body's first line)."""
        text = self.text(path)
        if text is None:
            return None
        lines = text.split("\n")
        if lines[0].rstrip() != "---":
            self.add(path, 1, "must start with YAML front matter: "
                              "a '---' line, the fields, then '---'")
            return None
        close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
        if close is None:
            self.add(path, 1, "front matter opened on line 1 is never closed with a '---' line")
            return None
        # A blank first line stands in for the opening '---', so YAML line
        # numbers are file line numbers.
        data = self.mapping(path, "\n" + "\n".join(lines[1:close]), "the front matter")
        if data is None:
            return None
        return data, "\n".join(lines[close + 1:]), close + 2

    def images(self, folder: Path, bodies: list[str]) -> dict[str, bytes]:
        """Bytes of every image the bodies reference that exists inside `folder`.

        Unsafe or missing paths are left out; validation reports them.
        """
        found: dict[str, bytes] = {}
        inside = folder.resolve()
        for body in bodies:
            for _, src in image_sources(parse_tokens(body)):
                if src in found or not is_relative_path(src):
                    continue
                file = (folder / src).resolve()
                if file.is_relative_to(inside) and file.is_file():
                    found[src] = file.read_bytes()
        return found


# Lenient field readers: a missing or mistyped value becomes an empty one, and
# validation reports it against the source mapping.

def _lesson(reader: _Reader, path: Path) -> Lesson | None:
    parsed = reader.front_matter(path)
    if parsed is None:
        return None
    data, body, body_line = parsed
    return Lesson(
        file=path.name, path=reader.rel(path), id=_str(data, "id"), title=_str(data, "title"),
        phase=_str(data, "phase"), minutes=_int(data, "minutes"),
        references=_strs(data, "references"), key_points=_strs(data, "key_points"),
        body=body, body_line=body_line, source=data,
    )


def _lessons(reader: _Reader, folder: Path, course_yaml: Path, data: LineDict) -> list[Lesson]:
    listed = data.get("lessons")
    if not isinstance(listed, list):
        return []
    lessons: list[Lesson] = []
    seen: set[str] = set()
    for index, name in enumerate(listed):
        # Names that are not plain .md file names are reported by validation.
        if not isinstance(name, str) or name in seen or not name.endswith(".md") \
                or "/" in name or "\\" in name:
            continue
        seen.add(name)
        file = folder / name
        if not file.is_file():
            reader.add(course_yaml, listed.line_of(index),
                       f"lesson file '{name}' is listed but {reader.rel(file)} does not exist")
            continue
        lesson = _lesson(reader, file)
        if lesson is not None:
            lessons.append(lesson)
    return lessons


def _course(reader: _Reader, folder: Path) -> Course | None:
    course_yaml = folder / "course.yaml"
    if not course_yaml.is_file():
        reader.add(course_yaml, 0, "missing: every course folder needs a course.yaml")
        return None
    text = reader.text(course_yaml)
    data = None if text is None else reader.mapping(course_yaml, text, "course.yaml")
    if data is None:
        return None
    lessons = _lessons(reader, folder, course_yaml, data)
    quiz = data.get("quiz")
    return Course(
        slug=folder.name, path=reader.rel(course_yaml), title=_str(data, "title"),
        summary=_str(data, "summary"), audience=_str(data, "audience"),
        estimated_minutes=_int(data, "estimated_minutes"), phases=_strs(data, "phases"),
        lessons=tuple(lessons), quiz=quiz if isinstance(quiz, str) else None,
        key_points=_strs(data, "key_points"),
        images=reader.images(folder, [lesson.body for lesson in lessons]), source=data,
    )


def _job_aid(reader: _Reader, path: Path) -> JobAid | None:
    parsed = reader.front_matter(path)
    if parsed is None:
        return None
    data, body, body_line = parsed
    return JobAid(
        slug=path.stem, path=reader.rel(path), title=_str(data, "title"),
        phase=_str(data, "phase"), tags=_strs(data, "tags"),
        references=_strs(data, "references"), body=body, body_line=body_line,
        images=reader.images(path.parent, [body]), source=data,
    )


def _question(data: LineDict) -> Question | None:
    """The typed item for `data`, built by its type; None when the type is unknown."""
    qtype = REGISTRY.get(data.get("type")) if isinstance(data.get("type"), str) else None
    if qtype is None:
        return None
    common: dict[str, Any] = {
        "id": _str(data, "id"), "phase": _str(data, "phase"),
        "difficulty": _str(data, "difficulty"), "points": _int(data, "points", DEFAULT_POINTS),
        "explanation": _str(data, "explanation"), "references": _strs(data, "references"),
        "teaches": data["teaches"] if isinstance(data.get("teaches"), str) else None,
    }
    return qtype.build(data, common)


def _quiz(reader: _Reader, path: Path) -> Quiz | None:
    text = reader.text(path)
    data = None if text is None else reader.mapping(path, text, "a quiz file")
    if data is None:
        return None
    attempts = data.get("attempts")
    description = data.get("description")
    scoring = data.get("multiple_response_scoring")
    questions = (_question(item) for item in _maps(data, "questions"))
    return Quiz(
        slug=path.stem, path=reader.rel(path), title=_str(data, "title"),
        description=description if isinstance(description, str) else None,
        pass_mark=_int(data, "pass_mark"),
        time_limit_minutes=_optional_int(data, "time_limit_minutes"),
        max_attempts=_optional_int(attempts, "max"),
        cooldown_minutes=_int(attempts, "cooldown_minutes"),
        review=review_mode(data.get("review")),
        multiple_response_scoring=scoring if isinstance(scoring, str) else "all_or_nothing",
        draw=tuple(DrawRule(phase=_str(r, "phase"), count=_int(r, "count"), types=_strs(r, "types"))
                   for r in _maps(data, "draw")),
        questions=tuple(q for q in questions if q is not None),
        source=data,
    )


def _requirement(data: LineDict) -> Requirement | None:
    """The requirement `data` states, or None when it names not exactly one course or quiz."""
    kinds = [kind for kind in REQUIREMENT_KINDS if kind in data]
    if len(kinds) != 1 or not isinstance(data[kinds[0]], str):
        return None
    kind = kinds[0]
    return Requirement(kind=kind, slug=data[kind],
                       min_score=_optional_int(data, "min_score") if kind == "quiz" else None)


def _programme(reader: _Reader, path: Path) -> Programme | None:
    text = reader.text(path)
    data = None if text is None else reader.mapping(path, text, "a programme file")
    if data is None:
        return None
    requirements = (_requirement(item) for item in _maps(data, "requirements"))
    return Programme(
        slug=path.stem, path=reader.rel(path), title=_str(data, "title"),
        description=_str(data, "description"),
        validity_months=_int(data, "validity_months"),
        recertification_window_days=_int(data, "recertification_window_days"),
        grace_days=_int(data, "grace_days"),
        requirements=tuple(r for r in requirements if r is not None),
        source=data,
    )


def _translation_name(reader: _Reader, path: Path) -> tuple[str, str] | None:
    """(source stem, language) when `path` names a translation, else None (a source file)."""
    found = TRANSLATION_NAME.match(path.stem)
    if found is None:
        return None
    if not LANGUAGE_CODE.match(found["language"]):
        reader.add(path, 0, f"'{path.name}' is not a source or a translation: a translation is named "
                            f"like its source with a two-letter language code, e.g. "
                            f"'{found['stem']}.fr{path.suffix}'")
        return None
    return found["stem"], found["language"]


def _translation(kind: str, slug: str, language: str, path: str, data: LineDict,
                 **extra: Any) -> Translation:
    """A Translation from its main file's mapping: the text is everything but its own settings."""
    text = LineDict({k: v for k, v in data.items() if k not in TRANSLATION_FIELDS}, line=data.line)
    text.key_lines = dict(data.key_lines)
    lesson_files = extra.pop("lesson_files", {})
    text.update(extra)
    return Translation(kind=kind, slug=slug, language=language, path=path,
                       translation_of=_str(data, "translation_of"),
                       if_stale=_str(data, "if_stale") or "source", text=text,
                       lesson_files=lesson_files, source=data)


def _course_translations(reader: _Reader, folder: Path, course: Course, tree: ContentTree) -> None:
    """course.<language>.yaml and, for each lesson of the source, <file stem>.<language>.md."""
    for file in sorted(folder.glob("course.*.yaml")):
        name = _translation_name(reader, file)
        text = reader.text(file) if name else None
        data = None if text is None else reader.mapping(file, text, f"{file.name}")
        if data is None:
            continue
        language = name[1]
        lessons: dict[str, LineDict] = {}
        lesson_files: dict[str, tuple[str, int]] = {}
        for lesson in course.lessons:
            translated = folder / f"{Path(lesson.file).stem}.{language}.md"
            parsed = reader.front_matter(translated) if translated.is_file() else None
            if parsed is not None:
                front, body, body_line = parsed
                front["body"] = body
                lessons[lesson.id] = front
                lesson_files[lesson.id] = (reader.rel(translated), body_line)
        translation = _translation("course", course.slug, language, reader.rel(file), data,
                                   lessons=lessons, lesson_files=lesson_files)
        tree.translations["course", course.slug, language] = translation


def _markdown_translation(reader: _Reader, path: Path, slug: str, language: str) -> Translation | None:
    parsed = reader.front_matter(path)
    if parsed is None:
        return None
    data, body, _ = parsed
    return _translation("job_aid", slug, language, reader.rel(path), data, body=body)


def _yaml_translation(reader: _Reader, kind: str, path: Path, slug: str, language: str) -> Translation | None:
    text = reader.text(path)
    data = None if text is None else reader.mapping(path, text, f"a {kind} translation")
    return None if data is None else _translation(kind, slug, language, reader.rel(path), data)


def _sources_and_translations(reader: _Reader, files: list[Path], kind: str, tree: ContentTree,
                              read_translation) -> list[Path]:
    """The source files among `files`; the translations among them go into the tree."""
    sources = []
    for file in files:
        name = _translation_name(reader, file) if "." in file.stem else None
        if name is None:
            if "." not in file.stem:
                sources.append(file)
            continue
        translation = read_translation(reader, file, name[0], name[1])
        if translation is not None:
            tree.translations[kind, name[0], name[1]] = translation
    return sources


def parse_tree(root: Path) -> tuple[ContentTree, list[Problem]]:
    """Read every course folder, job aid, quiz and programme file under `root`.

    That is root/courses/<slug>/ (course.yaml and the lessons it lists),
    root/courses/_job-aids/*.md, root/quizzes/*.yaml and root/programmes/*.yaml, and the
    translations beside them (`<name>.<language>.<suffix>`, lms/content/translations.py).
    Returns the tree of everything that could be read and the problems that
    stopped a file being read. It does not validate; `check_tree` does both.
    """
    reader = _Reader(root)
    tree = ContentTree()
    courses = root / "courses"
    if not courses.is_dir():
        reader.problems.append(Problem("courses", 0, f"folder not found in {root}"))
    else:
        for folder in sorted(p for p in courses.iterdir() if p.is_dir()):
            # Country notes are read by country_notes.py: the folder is no course.
            if folder.name.startswith(".") or folder.name == "_country-notes":
                continue
            if folder.name == JOB_AIDS_FOLDER:
                for file in _sources_and_translations(reader, sorted(folder.glob("*.md")), "job_aid",
                                                      tree, _markdown_translation):
                    job_aid = _job_aid(reader, file)
                    if job_aid is not None:
                        tree.job_aids[job_aid.slug] = job_aid
            elif (course := _course(reader, folder)) is not None:
                tree.courses[course.slug] = course
                _course_translations(reader, folder, course, tree)

    def yaml_translation(kind: str):
        return lambda reader, path, slug, language: _yaml_translation(reader, kind, path, slug, language)

    for file in _sources_and_translations(reader, sorted((root / "quizzes").glob("*.yaml")), "quiz",
                                          tree, yaml_translation("quiz")):
        quiz = _quiz(reader, file)
        if quiz is not None:
            tree.quizzes[quiz.slug] = quiz
    for file in _sources_and_translations(reader, sorted((root / "programmes").glob("*.yaml")),
                                          "programme", tree, yaml_translation("programme")):
        programme = _programme(reader, file)
        if programme is not None:
            tree.programmes[programme.slug] = programme
    return tree, reader.problems
