"""Translated content: which translations are stale, what a current one must hold, and the
source's text replaced by a translation's.

A translation carries only text, keyed like its source (docs/content-format.md, "Translations"):

- course: `title`, `summary`, `audience`, `key_points`, and `lessons` (lesson id -> `title`,
  `key_points`, `body`), the body with the source's headings in the same order and levels;
- quiz: `title`, `description`, and `questions` (item id -> `prompt`, `explanation`,
  `feedback_true`/`feedback_false`, `options` (option id -> `text`, `feedback`), and for call
  simulations `title`, `scenario`, `nodes` (node id -> `caller`, `choices` (choice id -> `text`,
  `feedback`, `critical`)));
- job aid: `title`, `tags`, `body`;  programme: `title`, `description`.

A translation is **current** while `translation_of` is the source's content hash. A current
translation must translate everything the source says; a stale one is checked only for its own
shape, since its source moved on (its readers see the source, or it with a notice: `if_stale`).
Whatever a translation lacks falls back to the source, field by field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from lms.checked_yaml.fields import Report, closed, describe, list_of, one_of, text_value
from lms.checked_yaml.problems import Problem

from .markdown import heading_anchors, parse_tokens
from .model import STALE_RULES, ContentTree, Translation

SOURCE_LANGUAGE = "en"  # the language the source files are written in
_HASH = re.compile(r"^[0-9a-f]{64}$")

# Translated text fields of a quiz item, and of the parts nested in it.
ITEM_TEXT = ("prompt", "explanation", "feedback_true", "feedback_false", "title", "scenario")
OPTION_TEXT = ("text", "feedback")
NODE_TEXT = ("caller",)
CHOICE_TEXT = ("text", "feedback", "critical")


def source_of(tree: ContentTree, translation: Translation) -> Any:
    """The course, quiz, job aid or programme a translation translates, or None."""
    return {"course": tree.courses, "quiz": tree.quizzes, "job_aid": tree.job_aids,
            "programme": tree.programmes}[translation.kind].get(translation.slug)


def is_current(translation: Translation, source_hash: str) -> bool:
    """Whether the translation was made from the source with this content hash."""
    return translation.translation_of == source_hash


# -- checks --------------------------------------------------------------------

def _hash_value(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str) or not _HASH.match(value):
        yield line, ("must be the 64-character content hash of the source it was translated from "
                     f"(`lms content translations` prints it), got {describe(value)}")


_SETTINGS = {"translation_of": (True, _hash_value), "if_stale": (False, one_of(*STALE_RULES))}
_TEXT = (True, text_value)
_OPTIONAL_TEXT = (False, text_value)
_POINTS = (True, list_of(text_value))


def check_translations(tree: ContentTree) -> list[Problem]:
    """Problems with the translations: their settings and shape, and for a current translation,
    anything of the source it leaves untranslated or names that the source does not have."""
    problems: list[Problem] = []
    for translation in tree.translations.values():
        report = Report(translation.path, problems)
        source = source_of(tree, translation)
        kind = translation.kind.replace("_", " ")
        if translation.language == SOURCE_LANGUAGE:
            report.add(0, f"the source is in '{SOURCE_LANGUAGE}': a translation into it has nothing to add")
            continue
        if source is None:
            report.add(0, f"translates {kind} '{translation.slug}', which does not exist")
            continue
        # The settings are checked here; each kind's check below closes the text fields.
        closed(report, "", translation.source, 1, {**_SETTINGS, **{k: (False, None) for k in translation.text}})
        current = is_current(translation, source.content_hash)
        {"course": _check_course, "quiz": _check_quiz, "job_aid": _check_job_aid,
         "programme": _check_programme}[translation.kind](report, translation, source, current, problems)
    return problems


def stale_translations(tree: ContentTree) -> list[Problem]:
    """A notice for each translation whose source changed since it was translated."""
    notices = []
    for translation in tree.translations.values():
        source = source_of(tree, translation)
        if source is not None and _HASH.match(translation.translation_of) \
                and not is_current(translation, source.content_hash):
            notices.append(Problem(translation.path, translation.source.line_of("translation_of"),
                                   f"stale: translated from {translation.translation_of[:12]}, but the "
                                   f"source is now {source.content_hash[:12]} ({source.path}); update "
                                   f"the translation, then set translation_of: {source.content_hash}"))
    return notices


def _check_course(report: Report, translation: Translation, course: Any, current: bool,
                  problems: list[Problem]) -> None:
    text = translation.text
    closed(report, "", text, 1, {"title": _TEXT, "summary": _TEXT, "audience": _TEXT,
                                 "key_points": _POINTS, "lessons": (False, None)})
    if not current:
        return
    _same_count(report, "", text, "key_points", course.key_points)
    for lesson in course.lessons:
        translated = text["lessons"].get(lesson.id)
        if translated is None:
            report.add(1, f"lesson '{lesson.id}' ({lesson.file}) has no translation: add "
                          f"{lesson.file.rsplit('.', 1)[0]}.{translation.language}.md beside it")
            continue
        path, body_line = translation.lesson_files[lesson.id]
        lesson_report = Report(path, problems)
        closed(lesson_report, "", translated, 1, {"title": _TEXT, "key_points": _POINTS, "body": _TEXT})
        _same_count(lesson_report, "", translated, "key_points", lesson.key_points)
        _same_headings(lesson_report, body_line, translated.get("body"), lesson.body)


def _same_count(report: Report, label: str, text: Mapping, key: str, source: tuple) -> None:
    value = text.get(key)
    if isinstance(value, list) and len(value) != len(source):
        at = f"{label}: " if label else ""
        report.add(text.line_of(key),
                   f"{at}'{key}' has {len(value)} entries; the source has {len(source)}, in the same order")


def _headings(body: str) -> list[tuple[str, int]]:
    tokens = parse_tokens(body)
    return [(token.tag, token.map[0] if token.map else 0) for token, _, _ in heading_anchors(tokens)]


def _same_headings(report: Report, body_line: int, body: Any, source_body: str) -> None:
    """A translated lesson keeps the source's headings, in order: section links (a quiz item's
    `teaches`, a missed question's "reread") find a section by its position."""
    if not isinstance(body, str):
        return
    mine, theirs = _headings(body), [tag for tag, _ in _headings(source_body)]
    if [tag for tag, _ in mine] == theirs:
        return
    for index, (tag, line) in enumerate(mine):
        if index >= len(theirs) or tag != theirs[index]:
            report.add(body_line + line, f"heading {index + 1} is an {tag}, the source's is "
                                         f"{'missing' if index >= len(theirs) else 'an ' + theirs[index]}: "
                                         f"keep the source's headings, in order")
            return
    report.add(body_line, f"has {len(mine)} headings, the source has {len(theirs)}: keep the source's headings, in order")


def _check_job_aid(report: Report, translation: Translation, _aid: Any, _current: bool,
                   _problems: list[Problem]) -> None:
    closed(report, "", translation.text, 1, {"title": _TEXT, "tags": (False, list_of(text_value)), "body": _TEXT})


def _check_programme(report: Report, translation: Translation, _programme: Any, _current: bool,
                     _problems: list[Problem]) -> None:
    closed(report, "", translation.text, 1, {"title": _TEXT, "description": _TEXT})


def _check_quiz(report: Report, translation: Translation, quiz: Any, current: bool,
                _problems: list[Problem]) -> None:
    text = translation.text
    if not closed(report, "", text, 1, {"title": _TEXT, "description": _OPTIONAL_TEXT,
                                        "questions": (True, None)}):
        return
    questions = text.get("questions")
    if not isinstance(questions, Mapping):
        report.add(text.line_of("questions"), "'questions' must be a mapping of item id to its translated text")
        return
    if not current:
        return
    if quiz.description and not text.get("description"):
        report.add(1, "missing 'description': the source quiz has one")
    items = {item["id"]: item for item in quiz.source.get("questions", []) if isinstance(item, Mapping)}
    for item_id in questions:
        if item_id not in items:
            report.add(questions.line_of(item_id), f"question '{item_id}' is not in the source quiz")
    for item_id, item in items.items():
        if item_id not in questions:
            report.add(questions.line, f"question '{item_id}' is not translated")
            continue
        _check_parts(report, f"question '{item_id}'", questions[item_id], item, ITEM_TEXT,
                     {"options": ("option", OPTION_TEXT, None), "nodes": ("node", NODE_TEXT, "choices")})


def _check_parts(report: Report, label: str, mine: Any, source: Mapping, fields: tuple[str, ...],
                 nested: dict[str, tuple[str, tuple[str, ...], str | None]]) -> None:
    """`mine` translates every text field `source` has, and every part it nests, by id."""
    line = getattr(mine, "line", 1)
    if not isinstance(mine, Mapping):
        report.add(line, f"{label} must be a mapping of its translated fields, got {describe(mine)}")
        return
    allowed = {key: (False, text_value) for key in fields if source.get(key)}
    allowed.update({key: (False, None) for key in nested if source.get(key)})
    closed(report, label, mine, line, allowed)
    for key in fields:
        if source.get(key) and not mine.get(key):
            report.add(line, f"{label}: '{key}' is not translated")
    for key, (part, part_fields, inner) in nested.items():
        parts = {each.get("id"): each for each in source.get(key) or [] if isinstance(each, Mapping)}
        translated = mine.get(key)
        if not parts:
            continue
        if not isinstance(translated, Mapping):
            report.add(line, f"{label}: '{key}' must map each {part} id to its translated text")
            continue
        for part_id in translated:
            if part_id not in parts:
                report.add(translated.line_of(part_id), f"{label}: {part} '{part_id}' is not in the source")
        for part_id, each in parts.items():
            if part_id not in translated:
                report.add(translated.line, f"{label}: {part} '{part_id}' is not translated")
            else:
                deeper = {inner: ("choice", CHOICE_TEXT, None)} if inner else {}
                _check_parts(report, f"{label}, {part} '{part_id}'", translated[part_id], each,
                             part_fields, deeper)


# -- applying --------------------------------------------------------------------

def _put(target: dict, text: Mapping, fields: tuple[str, ...]) -> None:
    for key in fields:
        value = text.get(key)
        if isinstance(value, str) and value.strip() and key in target:
            target[key] = value


def translated_quiz_spec(spec: Mapping, text: Mapping) -> dict:
    """A copy of a published quiz spec with a translation's text in place of the source's.

    Ids, answer keys, points and settings are the source's, so an attempt grades the same in
    every language; text the translation lacks stays in the source language."""
    spec = copy.deepcopy(dict(spec))
    _put(spec, text, ("title", "description"))
    questions = text.get("questions") if isinstance(text.get("questions"), Mapping) else {}
    for item in spec.get("questions", []):
        mine = questions.get(item.get("id"))
        if not isinstance(mine, Mapping):
            continue
        _put(item, mine, ITEM_TEXT)
        for part_key, fields, inner in (("options", OPTION_TEXT, None), ("nodes", NODE_TEXT, "choices")):
            translated = mine.get(part_key) if isinstance(mine.get(part_key), Mapping) else {}
            for part in item.get(part_key) or []:
                theirs = translated.get(part.get("id"))
                if not isinstance(theirs, Mapping):
                    continue
                _put(part, theirs, fields)
                if inner:
                    choices = theirs.get(inner) if isinstance(theirs.get(inner), Mapping) else {}
                    for choice in part.get(inner) or []:
                        if isinstance(choices.get(choice.get("id")), Mapping):
                            _put(choice, choices[choice["id"]], CHOICE_TEXT)
    return spec


def text_or(text: Mapping, key: str, source: Any) -> Any:
    """The translation's value for `key` when it has a usable one, else the source's."""
    value = text.get(key)
    if isinstance(source, (list, tuple)):
        return tuple(value) if isinstance(value, list) and len(value) == len(source) else tuple(source)
    return value if isinstance(value, str) and value.strip() else source
