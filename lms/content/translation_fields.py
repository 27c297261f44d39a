"""A course, quiz or job aid's translatable text as a list of fields, and a field's value back.

A translation's text has the shape of its source's text (lms/content/translations.py). Here:

- `source_text` reduces a source (a course's fields and lessons, a quiz spec, a job aid) to that
  shape, keeping only the text a translator writes, in reading order;
- `fields` flattens such a text into one `Field` per piece of text (a key point, an option's
  feedback, a lesson's body), each under the group it is shown in (the course, a lesson, a
  question);
- `value_at` reads a field's value from any text of that shape (a translation's, an earlier
  source's), and `build_text` writes submitted values back into one.

The authoring side-by-side editor (lms/authoring/views/translations.py) shows one row per field.
Pure: no Flask, no database, no wording (the page names fields by their keys).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .translations import CHOICE_TEXT, NODE_TEXT, OPTION_TEXT

Path = tuple[str | int, ...]

# A quiz item's text fields in the order a translator reads the item: what is asked, the answers,
# then what is said afterwards (translations.ITEM_TEXT is the same set, in the file's order).
ITEM_ORDER = ("prompt", "title", "scenario", "options", "feedback_true", "feedback_false", "explanation", "nodes")
# Text kept as a list of lines: one entry per line in the editor.
LINE_LISTS = frozenset({"tags"})
# Each entry of these lists is a field of its own: a translation keeps the source's count and order.
ENTRY_LISTS = frozenset({"key_points"})
# Markdown that keeps its line breaks; every other value is one paragraph of text.
MARKDOWN = frozenset({"body"})


@dataclass(frozen=True)
class Part:
    """A nested part a field belongs to: an option, a simulation node or one of its replies."""

    kind: str      # "option", "node" or "choice"
    id: str
    number: int    # 1-based position in the source


@dataclass(frozen=True)
class Group:
    """The heading a field is shown under: the item itself, a lesson or a question."""

    kind: str      # "course", "lesson", "quiz", "question" or "job_aid"
    id: str = ""   # the lesson's or question's id
    number: int = 0
    title: str = ""  # the source's words that name it (a lesson's title, a question's prompt)


@dataclass(frozen=True)
class Field:
    """One piece of text to translate: where it sits in the text, and the source's words."""

    path: Path
    group: Group
    source: str
    parts: tuple[Part, ...] = ()

    @property
    def key(self) -> str:
        """The field's name: 'title', 'feedback', 'key_points' (for each entry)..."""
        return next(step for step in reversed(self.path) if isinstance(step, str))

    @property
    def number(self) -> int:
        """The 1-based position of a list entry (a key point), else 0."""
        return self.path[-1] + 1 if isinstance(self.path[-1], int) else 0

    @property
    def name(self) -> str:
        """A form field name that is unique on the page and the same on every request."""
        return "/".join(str(step) for step in self.path)

    @property
    def markdown(self) -> bool:
        return self.key in MARKDOWN

    @property
    def lines(self) -> bool:
        return self.key in LINE_LISTS


# -- the source, as a translation's text ---------------------------------------------------

def _texts(data: Mapping, keys: tuple[str, ...]) -> dict[str, str]:
    """The keys of `data` holding text, in the order given (empty text is nothing to translate)."""
    return {key: data[key] for key in keys if isinstance(data.get(key), str) and data[key].strip()}


def _by_id(items: Any) -> list[Mapping]:
    return [item for item in items or [] if isinstance(item, Mapping) and isinstance(item.get("id"), str)]


def _strings(value: Any) -> list[str]:
    return [each for each in value or [] if isinstance(each, str)]


def _course_text(course: Mapping) -> dict[str, Any]:
    text: dict[str, Any] = _texts(course, ("title", "summary", "audience"))
    text["key_points"] = _strings(course.get("key_points"))
    text["lessons"] = {
        lesson["id"]: {**_texts(lesson, ("title",)), "key_points": _strings(lesson.get("key_points")),
                       **_texts(lesson, ("body",))}
        for lesson in _by_id(course.get("lessons"))}
    return text


def _quiz_item_text(item: Mapping) -> dict[str, Any]:
    text: dict[str, Any] = {}
    for key in ITEM_ORDER:
        if key == "options":
            options = {option["id"]: _texts(option, OPTION_TEXT) for option in _by_id(item.get("options"))}
            if options:
                text["options"] = options
        elif key == "nodes":
            nodes = {node["id"]: {**_texts(node, NODE_TEXT),
                                  "choices": {choice["id"]: _texts(choice, CHOICE_TEXT)
                                              for choice in _by_id(node.get("choices"))}}
                     for node in _by_id(item.get("nodes"))}
            if nodes:
                text["nodes"] = nodes
        else:
            text.update(_texts(item, (key,)))
    return text


def _quiz_text(spec: Mapping) -> dict[str, Any]:
    text: dict[str, Any] = _texts(spec, ("title", "description"))
    text["questions"] = {item["id"]: _quiz_item_text(item) for item in _by_id(spec.get("questions"))}
    return text


def _job_aid_text(aid: Mapping) -> dict[str, Any]:
    text: dict[str, Any] = _texts(aid, ("title",))
    if _strings(aid.get("tags")):
        text["tags"] = _strings(aid.get("tags"))
    text.update(_texts(aid, ("body",)))
    return text


def source_text(kind: str, source: Mapping) -> dict[str, Any]:
    """The text of a source in the shape of its translations' text, in reading order.

    `source` is, for a course, its `title`, `summary`, `audience`, `key_points` and `lessons` (a
    list of mappings with `id`, `title`, `key_points` and `body`); for a quiz, its spec as in
    quizzes/<slug>.yaml; for a job aid, its `title`, `tags` and `body`.
    """
    return {"course": _course_text, "quiz": _quiz_text, "job_aid": _job_aid_text}[kind](source)


# -- fields ------------------------------------------------------------------------------

def _leaves(text: Mapping, path: Path, group: Group, parts: tuple[Part, ...]) -> Iterator[Field]:
    """A field for each text value under `text`; nested parts (options, nodes, choices) in order."""
    for key, value in text.items():
        if isinstance(value, str):
            yield Field(path + (key,), group, value, parts)
        elif key in ENTRY_LISTS:
            for index, entry in enumerate(value):
                yield Field(path + (key, index), group, entry, parts)
        elif key in LINE_LISTS:
            yield Field(path + (key,), group, "\n".join(value), parts)
        elif isinstance(value, Mapping):
            kind = {"options": "option", "nodes": "node", "choices": "choice"}[key]
            for number, (part_id, part) in enumerate(value.items(), start=1):
                yield from _leaves(part, path + (key, part_id), group, parts + (Part(kind, part_id, number),))


def fields(kind: str, text: Mapping) -> list[Field]:
    """One field per piece of a source's text (`source_text`), grouped as the editor shows them:
    the item's own text first, then each lesson or question in order."""
    own = {key: value for key, value in text.items() if key not in ("lessons", "questions")}
    found = list(_leaves(own, (), Group(kind, title=text.get("title", "")), ()))
    for number, (lesson_id, lesson) in enumerate((text.get("lessons") or {}).items(), start=1):
        group = Group("lesson", lesson_id, number, lesson.get("title", ""))
        found += _leaves(lesson, ("lessons", lesson_id), group, ())
    for number, (item_id, item) in enumerate((text.get("questions") or {}).items(), start=1):
        group = Group("question", item_id, number, item.get("prompt") or item.get("title") or "")
        found += _leaves(item, ("questions", item_id), group, ())
    return found


def value_at(text: Any, field: Field) -> str | None:
    """The value `text` (a translation's, or an earlier source's) holds for `field`, as the editor
    shows it; None when it holds none."""
    value = text
    for step in field.path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, Mapping) else None
    if field.lines and isinstance(value, list):
        return "\n".join(each for each in value if isinstance(each, str))
    return value if isinstance(value, str) else None


# -- writing values back ---------------------------------------------------------------------

def clean(field: Field, value: str) -> str:
    """A submitted value as the files keep it: browsers send CRLF line ends and stray blank lines;
    a Markdown body ends with one newline, like a file; a list of lines has one entry per line."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if field.markdown:
        return value.strip("\n").rstrip() + "\n" if value.strip() else ""
    if field.lines:
        return "\n".join(line.strip() for line in value.split("\n") if line.strip())
    return value.strip()


def build_text(found: list[Field], values: Mapping[str, str]) -> dict[str, Any]:
    """A translation's text holding `values` (by field name, cleaned) at each field's path, in the
    fields' order; a field without a value is left out (the source's text stands in for it)."""
    text: dict[str, Any] = {}
    for field in found:
        value = values.get(field.name, "")
        if not value:
            continue
        *steps, last = field.path
        target: Any = text
        for step, following in zip(steps, field.path[1:]):
            default: Any = [] if isinstance(following, int) else {}
            target = target.setdefault(step, default)
        if isinstance(last, int):
            target.extend([""] * (last + 1 - len(target)))
            target[last] = value
        else:
            target[last] = value.split("\n") if field.lines else value
    return text
