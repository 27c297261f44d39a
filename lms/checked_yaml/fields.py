"""The field-checking toolkit every content validator shares.

A file's mapping is checked against a table of fields (`closed`), each value by
a small check that yields `(line, message)` pairs; problems are collected in a
`Report` for one file. The content checks (lms/content: courses, lessons, job aids, quizzes,
programmes) and each question type (lms/question_types) build their rules from these pieces.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .problems import Problem
from .yaml_lines import LineDict

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# A citation of an article: "Art. 12(3)", "Art.6", "Article 15", "Articles 13 and 14".
ARTICLE = re.compile(r"\b(?:Art\.|Articles?\b)\s*\d", re.IGNORECASE)


# A check gets a value and the line it was written on, and yields
# (line, message) pairs; the caller puts the field name in front.
Check = Callable[[Any, int], Iterator[tuple[int, str]]]
# Field name -> (required, check). A None check means the field is checked
# by dedicated code after the mapping itself.
Fields = Mapping[str, tuple[bool, Check | None]]


class Report:
    """Collects problems for one file."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))


def describe(value: Any) -> str:
    """How a value is shown in a message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def line_of(container: Any, key: Any, default: int) -> int:
    """Line of `key` in a LineDict or LineList; `default` for plain data."""
    method = getattr(container, "line_of", None)
    return method(key) if method else default


# -- value checks ------------------------------------------------------------

def text_value(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str):
        yield line, f"must be text, got {describe(value)}"
    elif not value.strip():
        yield line, "must not be empty"


def slug_value(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if isinstance(value, str) and SLUG.match(value):
        return
    hint = ""
    if isinstance(value, bool):
        hint = " (YAML reads yes, no, on and off as true or false: put the id in quotes)"
    elif isinstance(value, int):
        hint = " (YAML reads it as a number: put the id in quotes)"
    yield line, ("must be a slug: lowercase letters, digits and hyphens, "
                 f"got {describe(value)}{hint}")


def integer_value(low: int, high: int | None = None, *, nullable: bool = False) -> Check:
    wanted = f"an integer of at least {low}"
    if high is not None:
        wanted = f"an integer from {low} to {high}"
    if nullable:
        wanted += " or null"

    def check(value: Any, line: int) -> Iterator[tuple[int, str]]:
        if value is None and nullable:
            return
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < low or (high is not None and value > high):
            yield line, f"must be {wanted}, got {describe(value)}"
    return check


def one_of(*choices: str) -> Check:
    def check(value: Any, line: int) -> Iterator[tuple[int, str]]:
        if not isinstance(value, str) or value not in choices:
            yield line, f"must be one of {', '.join(choices)}, got {describe(value)}"
    return check


def list_of(item: Check, *, min_items: int = 1, max_items: int | None = None,
            unique: bool = False) -> Check:
    def check(value: Any, line: int) -> Iterator[tuple[int, str]]:
        if not isinstance(value, list):
            yield line, f"must be a list, got {describe(value)}"
            return
        if len(value) < min_items:
            yield line, ("must not be empty" if min_items == 1
                         else f"must have at least {min_items} items, has {len(value)}")
        if max_items is not None and len(value) > max_items:
            yield line, f"must have at most {max_items} items, has {len(value)}"
        seen: set[Any] = set()
        for index, element in enumerate(value):
            element_line = line_of(value, index, line)
            for problem_line, message in item(element, element_line):
                yield problem_line, f"item {index + 1} {message}"
            if unique and isinstance(element, str):
                if element in seen:
                    yield element_line, f"lists {describe(element)} twice"
                seen.add(element)
    return check


# -- mappings ----------------------------------------------------------------

def prefix(label: str) -> str:
    return f"{label}: " if label else ""


def closed(report: Report, label: str, mapping: Any, line: int, fields: Fields,
           *, allow_unknown: bool = False) -> bool:
    """Check `mapping` against `fields`; False when it is not a mapping at all.

    `label` names the mapping in messages ("question 'verbal-sar'"), or is
    empty for a file's top level.
    """
    at = prefix(label)
    if not isinstance(mapping, dict):
        report.add(line, f"{at}must be a mapping of fields, got {describe(mapping)}")
        return False
    for key in mapping:
        if key not in fields and not allow_unknown:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.65)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(fields)}"
            report.add(line_of(mapping, key, line), f"{at}unknown field '{key}' ({hint})")
    for key, (required, check) in fields.items():
        if key not in mapping:
            if required:
                report.add(getattr(mapping, "line", line), f"{at}missing required field '{key}'")
        elif check is not None:
            for problem_line, message in check(mapping[key], line_of(mapping, key, line)):
                report.add(problem_line, f"{at}'{key}' {message}")
    return True


def any_value(value: Any, line: int) -> Iterator[tuple[int, str]]:
    return iter(())


def list_items(report: Report, label: str, mapping: LineDict, key: str,
               *, min_items: int = 1, max_items: int | None = None) -> list[tuple[int, Any]]:
    """(line, element) for each element of the list `mapping[key]`.

    A value that is not a list, or has too few or too many elements, is
    reported here; the elements themselves are the caller's to check.
    """
    if key not in mapping:
        return []
    value, line = mapping[key], mapping.line_of(key)
    check = list_of(any_value, min_items=min_items, max_items=max_items)
    for problem_line, message in check(value, line):
        report.add(problem_line, f"{prefix(label)}'{key}' {message}")
    if not isinstance(value, list):
        return []
    return [(line_of(value, index, line), element) for index, element in enumerate(value)]


def unique_ids(report: Report, label: str, kind: str,
               elements: list[tuple[int, Any]]) -> dict[str, LineDict]:
    """The elements that have a string id, by id; a repeated id is reported."""
    by_id: dict[str, LineDict] = {}
    for _, element in elements:
        if not isinstance(element, LineDict) or not isinstance(element.get("id"), str):
            continue
        element_id = element["id"]
        if element_id in by_id:
            first = by_id[element_id].line_of("id")
            report.add(element.line_of("id"), f"{prefix(label)}{kind} id '{element_id}' "
                                              f"is used twice (first on line {first})")
        else:
            by_id[element_id] = element
    return by_id


def element_name(kind: str, element: Any, index: int) -> str:
    """"question 'verbal-sar'", or "question 3" when it has no usable id."""
    element_id = element.get("id") if isinstance(element, dict) else None
    return f"{kind} '{element_id}'" if isinstance(element_id, str) else f"{kind} {index + 1}"


def check_file_slug(report: Report, what: str, slug: str) -> None:
    if not SLUG.match(slug):
        report.add(0, f"{what} {describe(slug)} is not a slug: use lowercase letters, "
                      "digits and hyphens")
