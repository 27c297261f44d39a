"""The rules for programmes/<slug>.yaml, reported as `path:line: message`.

A programme names the courses and quizzes that earn its certificate, how long
the certificate stays valid, and when recertification opens. `check_programme`
is called by validate.validate_tree for each programme of the tree.
"""

from __future__ import annotations

from typing import Any

from lms.checked_yaml.fields import (
    SLUG, Fields, Report, check_file_slug, closed, describe, integer_value, list_items,
    slug_value, text_value,
)
from lms.checked_yaml.problems import Problem
from lms.checked_yaml.yaml_lines import LineDict

from .model import REQUIREMENT_KINDS, ContentTree, Programme

# A recertification window must close inside the certificate's life even in
# the shortest months.
DAYS_PER_MONTH = 28

_PROGRAMME_FIELDS: Fields = {
    "title": (True, text_value),
    "description": (True, text_value),
    "validity_months": (True, integer_value(1, 60)),
    "recertification_window_days": (True, integer_value(0, 365)),
    "grace_days": (False, integer_value(0, 90)),
    "requirements": (True, None),
}
# Which of `course` and `quiz` is given, and whether `min_score` may be, is
# checked after the fields themselves.
_REQUIREMENT_FIELDS: Fields = {
    "course": (False, slug_value),
    "quiz": (False, slug_value),
    "min_score": (False, None),
}
_MIN_SCORE = integer_value(1, 100)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_window(report: Report, data: LineDict) -> None:
    """The recertification window must be shorter than the certificate's validity."""
    months, days = data.get("validity_months"), data.get("recertification_window_days")
    if not (_is_int(months) and 1 <= months <= 60 and _is_int(days) and 0 <= days <= 365):
        return      # a missing or out-of-range value has been reported already
    limit = months * DAYS_PER_MONTH
    if days >= limit:
        report.add(data.line_of("recertification_window_days"),
                   f"'recertification_window_days' must be less than {limit} "
                   f"({DAYS_PER_MONTH} days for each of the {months} validity months), "
                   f"got {days}")


def _check_requirement(report: Report, label: str, requirement: LineDict,
                       tree: ContentTree) -> tuple[str, str, int] | None:
    """One requirement's fields; (kind, slug, line) when it names exactly one course or quiz."""
    kinds = [kind for kind in REQUIREMENT_KINDS if kind in requirement]
    if not kinds:
        report.add(requirement.line, f"{label}: must name a course ('course: <slug>') "
                                     "or a quiz ('quiz: <slug>')")
        return None
    if len(kinds) > 1:
        report.add(requirement.line, f"{label}: names both a course and a quiz; "
                                     "give each its own requirement")
        return None
    kind = kinds[0]
    slug, line = requirement[kind], requirement.line_of(kind)
    if kind == "quiz" and "min_score" not in requirement:
        report.add(requirement.line, f"{label}: missing required field 'min_score' "
                                     "(the percentage the quiz must be passed with)")
    elif kind == "quiz":
        for problem_line, message in _MIN_SCORE(requirement["min_score"],
                                                requirement.line_of("min_score")):
            report.add(problem_line, f"{label}: 'min_score' {message}")
    elif "min_score" in requirement:
        report.add(requirement.line_of("min_score"),
                   f"{label}: 'min_score' is only for quizzes: a course requirement "
                   "means every lesson of the course read")
    if not isinstance(slug, str) or not SLUG.match(slug):
        return None     # slug_value has reported it
    where = f"courses/{slug}/course.yaml" if kind == "course" else f"quizzes/{slug}.yaml"
    known = tree.courses if kind == "course" else tree.quizzes
    if slug not in known:
        report.add(line, f"{label}: {kind} '{slug}' not found: {where} is missing "
                         "or could not be read")
    return kind, slug, line


def check_programme(programme: Programme, tree: ContentTree, problems: list[Problem]) -> None:
    """Append every problem of one programme file to `problems`."""
    report = Report(programme.path, problems)
    check_file_slug(report, "programme file name", programme.slug)
    data = programme.source
    closed(report, "", data, 1, _PROGRAMME_FIELDS)
    _check_window(report, data)
    first: dict[tuple[str, str], int] = {}      # (kind, slug) -> line first required
    for index, (line, requirement) in enumerate(list_items(report, "", data, "requirements")):
        label = f"requirement {index + 1}"
        if not isinstance(requirement, LineDict):
            report.add(line, f"{label}: must be a mapping such as 'course: <slug>' or "
                             f"'{{quiz: <slug>, min_score: 80}}', got {describe(requirement)}")
            continue
        closed(report, label, requirement, line, _REQUIREMENT_FIELDS)
        named = _check_requirement(report, label, requirement, tree)
        if named is None:
            continue
        kind, slug, slug_line = named
        if (kind, slug) in first:
            report.add(slug_line, f"{label}: {kind} '{slug}' is required twice "
                                  f"(first on line {first[kind, slug]})")
        else:
            first[kind, slug] = slug_line
