"""Every rule of docs/content-format.md, reported as `path:line: message`.

Validation reads the mappings as written (with their line numbers) rather than
the lenient model, so it can say exactly which field is missing or wrong. It
reports every problem it finds, not only the first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from markdown_it.token import Token

from .markdown import (
    URL_SCHEMES, has_scheme, image_sources, inline_tokens, link_targets, parse_tokens,
)
from .model import (
    DIFFICULTIES, MULTIPLE_RESPONSE_SCORING, PHASES, QUESTION_TYPES, REVIEW_MODES,
    CallSimulation, ContentTree, Course, JobAid, Lesson, Quiz,
)
from .parser import Problem, parse_tree
from .yaml_lines import LineDict

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# "Art. 12(3)", "Art.6", "Article 15", "Articles 13 and 14".
ARTICLE = re.compile(r"\b(?:Art\.|Articles?\b)\s*\d", re.IGNORECASE)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")

# A check gets a value and the line it was written on, and yields
# (line, message) pairs; the caller puts the field name in front.
Check = Callable[[Any, int], Iterator[tuple[int, str]]]
# Field name -> (required, check). A None check means the field is checked
# by dedicated code after the mapping itself.
Fields = Mapping[str, tuple[bool, Check | None]]


class _Report:
    """Collects problems for one file."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))


def _describe(value: Any) -> str:
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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _line_of(container: Any, key: Any, default: int) -> int:
    line_of = getattr(container, "line_of", None)
    return line_of(key) if line_of else default


# -- value checks ------------------------------------------------------------

def _text(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str):
        yield line, f"must be text, got {_describe(value)}"
    elif not value.strip():
        yield line, "must not be empty"


def _slug(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if isinstance(value, str) and SLUG.match(value):
        return
    hint = ""
    if isinstance(value, bool):
        hint = " (YAML reads yes, no, on and off as true or false: put the id in quotes)"
    elif isinstance(value, int):
        hint = " (YAML reads it as a number: put the id in quotes)"
    yield line, ("must be a slug: lowercase letters, digits and hyphens, "
                 f"got {_describe(value)}{hint}")


def _integer(low: int, high: int | None = None, *, nullable: bool = False) -> Check:
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
            yield line, f"must be {wanted}, got {_describe(value)}"
    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any, line: int) -> Iterator[tuple[int, str]]:
        if not isinstance(value, str) or value not in choices:
            yield line, f"must be one of {', '.join(choices)}, got {_describe(value)}"
    return check


def _list_of(item: Check, *, min_items: int = 1, max_items: int | None = None,
             unique: bool = False) -> Check:
    def check(value: Any, line: int) -> Iterator[tuple[int, str]]:
        if not isinstance(value, list):
            yield line, f"must be a list, got {_describe(value)}"
            return
        if len(value) < min_items:
            yield line, ("must not be empty" if min_items == 1
                         else f"must have at least {min_items} items, has {len(value)}")
        if max_items is not None and len(value) > max_items:
            yield line, f"must have at most {max_items} items, has {len(value)}"
        seen: set[Any] = set()
        for index, element in enumerate(value):
            element_line = _line_of(value, index, line)
            for problem_line, message in item(element, element_line):
                yield problem_line, f"item {index + 1} {message}"
            if unique and isinstance(element, str):
                if element in seen:
                    yield element_line, f"lists {_describe(element)} twice"
                seen.add(element)
    return check


def _cites_article(value: Any, line: int) -> Iterator[tuple[int, str]]:
    problems = list(_text(value, line))
    yield from problems
    if not problems and not ARTICLE.search(value):
        yield line, "must cite an article, e.g. '(Art. 12(3))'"


def _references(value: Any, line: int) -> Iterator[tuple[int, str]]:
    problems = list(_list_of(_text, unique=True)(value, line))
    yield from problems
    if not problems and not any(ARTICLE.search(reference) for reference in value):
        yield line, "must include at least one article, e.g. 'Art. 12(3)'"


def _lesson_file(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str) or "/" in value or "\\" in value \
            or not value.endswith(".md") or not SLUG.match(value[:-3]):
        yield line, ("must be the name of a .md file in the course folder, such as "
                     f"'01-choosing-the-basis.md', got {_describe(value)}")


def _end(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if value is not True:
        yield line, f"must be true (leave it out at a decision node), got {_describe(value)}"


# -- mappings ----------------------------------------------------------------

def _prefix(label: str) -> str:
    return f"{label}: " if label else ""


def _closed(report: _Report, label: str, mapping: Any, line: int, fields: Fields,
            *, allow_unknown: bool = False) -> bool:
    """Check `mapping` against `fields`; False when it is not a mapping at all.

    `label` names the mapping in messages ("question 'verbal-sar'"), or is
    empty for a file's top level.
    """
    at = _prefix(label)
    if not isinstance(mapping, dict):
        report.add(line, f"{at}must be a mapping of fields, got {_describe(mapping)}")
        return False
    for key in mapping:
        if key not in fields and not allow_unknown:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.65)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(fields)}"
            report.add(_line_of(mapping, key, line), f"{at}unknown field '{key}' ({hint})")
    for key, (required, check) in fields.items():
        if key not in mapping:
            if required:
                report.add(getattr(mapping, "line", line), f"{at}missing required field '{key}'")
        elif check is not None:
            for problem_line, message in check(mapping[key], _line_of(mapping, key, line)):
                report.add(problem_line, f"{at}'{key}' {message}")
    return True


def _anything(value: Any, line: int) -> Iterator[tuple[int, str]]:
    return iter(())


def _items(report: _Report, label: str, mapping: LineDict, key: str,
           *, min_items: int = 1, max_items: int | None = None) -> list[tuple[int, Any]]:
    """(line, element) for each element of the list `mapping[key]`.

    A value that is not a list, or has too few or too many elements, is
    reported here; the elements themselves are the caller's to check.
    """
    if key not in mapping:
        return []
    value, line = mapping[key], mapping.line_of(key)
    check = _list_of(_anything, min_items=min_items, max_items=max_items)
    for problem_line, message in check(value, line):
        report.add(problem_line, f"{_prefix(label)}'{key}' {message}")
    if not isinstance(value, list):
        return []
    return [(_line_of(value, index, line), element) for index, element in enumerate(value)]


def _unique_ids(report: _Report, label: str, kind: str,
                elements: list[tuple[int, Any]]) -> dict[str, LineDict]:
    """The elements that have a string id, by id; a repeated id is reported."""
    by_id: dict[str, LineDict] = {}
    for _, element in elements:
        if not isinstance(element, LineDict) or not isinstance(element.get("id"), str):
            continue
        element_id = element["id"]
        if element_id in by_id:
            first = by_id[element_id].line_of("id")
            report.add(element.line_of("id"), f"{_prefix(label)}{kind} id '{element_id}' "
                                              f"is used twice (first on line {first})")
        else:
            by_id[element_id] = element
    return by_id


def _name(kind: str, element: Any, index: int) -> str:
    """"question 'verbal-sar'", or "question 3" when it has no usable id."""
    element_id = element.get("id") if isinstance(element, dict) else None
    return f"{kind} '{element_id}'" if isinstance(element_id, str) else f"{kind} {index + 1}"


# -- Markdown ----------------------------------------------------------------

def _check_image(src: str, images: Mapping[str, bytes], folder: str) -> str | None:
    """What is wrong with an image reference, if anything; `folder` ends in '/'."""
    shown = _describe(src)
    if not src.strip():
        return "image has no file path"
    if has_scheme(src):
        return f"image {shown} must be a file inside {folder}, not a URL"
    if src.startswith(("/", "\\")):
        return f"image {shown} must be a path relative to {folder}, without a leading '/'"
    if ".." in re.split(r"[/\\]", src):
        return f"image {shown} must stay inside {folder}: '..' is not allowed"
    if not src.lower().endswith(IMAGE_SUFFIXES):
        return f"image {shown} must be a PNG or JPEG file (.png, .jpg, .jpeg)"
    if src not in images:
        return f"image {shown} not found: there is no {folder}{src}"
    if not images[src].startswith(_IMAGE_MAGIC):
        return f"image {shown} is not a PNG or JPEG image"
    return None


def _check_markdown(report: _Report, tokens: list[Token], body_line: int,
                    images: Mapping[str, bytes], folder: str) -> None:
    """Raw HTML and image rules, for lessons and job aids alike."""
    html = [(t.map[0], t.content) for t in tokens if t.type == "html_block" and t.map]
    html += [(line, t.content) for line, t in inline_tokens(tokens) if t.type == "html_inline"]
    for line, content in sorted(html, key=lambda found: found[0]):
        report.add(body_line + line,
                   f"raw HTML is not allowed: {_describe(content.strip())}; use Markdown instead")
    for line, src in image_sources(tokens):
        message = _check_image(src, images, folder)
        if message:
            report.add(body_line + line, message)
    for line, href in link_targets(tokens):
        scheme = _SCHEME.match(href)
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            # The renderer would drop the href and leave dead text.
            report.add(body_line + line, f"link {_describe(href)} must use "
                                         f"{', '.join(sorted(URL_SCHEMES))} or a relative path")


def _check_sections(report: _Report, tokens: list[Token], body: str, body_line: int) -> None:
    """Every section starts with a '## ' heading and cites an article."""
    blocks = [t for t in tokens if t.level == 0 and t.map and t.nesting >= 0]
    # Only top-level headings start sections; one inside a quote or list does not.
    headings = [(i, t) for i, t in enumerate(tokens)
                if t.type == "heading_open" and t.tag == "h2" and t.level == 0]
    if not blocks:
        report.add(body_line - 1, "lesson has no text: add '## ' sections that cite articles")
        return
    if not headings:
        report.add(body_line + blocks[0].map[0],
                   "lesson has no '## ' sections: each section starts with a '## ' heading "
                   "and cites an article")
        return
    if blocks[0].map[0] < headings[0][1].map[0]:
        report.add(body_line + blocks[0].map[0],
                   "text before the first '## ' heading: each section must start with one")
    lines = body.split("\n")
    for number, (index, heading) in enumerate(headings):
        start = heading.map[0]
        end = headings[number + 1][1].map[0] if number + 1 < len(headings) else len(lines)
        if not ARTICLE.search("\n".join(lines[start:end])):
            title = tokens[index + 1].content
            report.add(body_line + start, f"section {_describe(title)} cites no article: "
                                          "add one such as '(Art. 13(1))'")


# -- courses, lessons, job aids ---------------------------------------------

_COURSE_FIELDS: Fields = {
    "title": (True, _text),
    "summary": (True, _text),
    "audience": (True, _text),
    "estimated_minutes": (True, _integer(1, 600)),
    "phases": (True, _list_of(_one_of(*PHASES), unique=True)),
    "lessons": (True, _list_of(_lesson_file, unique=True)),
    "quiz": (False, _slug),
    "key_points": (True, _list_of(_text)),
}
_LESSON_FIELDS: Fields = {
    "id": (True, _slug),
    "title": (True, _text),
    "phase": (True, _one_of(*PHASES)),
    "minutes": (True, _integer(1, 120)),
    "references": (True, _references),
    "key_points": (True, _list_of(_text)),
}
_JOB_AID_FIELDS: Fields = {
    "title": (True, _text),
    "phase": (True, _one_of(*PHASES)),
    "tags": (True, _list_of(_text, min_items=0)),
    "references": (True, _references),
}


def _check_slug(report: _Report, what: str, slug: str) -> None:
    if not SLUG.match(slug):
        report.add(0, f"{what} {_describe(slug)} is not a slug: use lowercase letters, "
                      "digits and hyphens")


def _check_lesson(lesson: Lesson, images: Mapping[str, bytes], folder: str,
                  problems: list[Problem]) -> None:
    report = _Report(lesson.path, problems)
    _closed(report, "", lesson.source, 1, _LESSON_FIELDS)
    tokens = parse_tokens(lesson.body)
    _check_markdown(report, tokens, lesson.body_line, images, folder)
    _check_sections(report, tokens, lesson.body, lesson.body_line)


def _check_course(course: Course, tree: ContentTree, problems: list[Problem]) -> None:
    report = _Report(course.path, problems)
    _check_slug(report, "course folder name", course.slug)
    _closed(report, "", course.source, 1, _COURSE_FIELDS)
    quiz = course.source.get("quiz")
    if isinstance(quiz, str) and SLUG.match(quiz) and quiz not in tree.quizzes:
        report.add(course.source.line_of("quiz"),
                   f"quiz '{quiz}' not found: quizzes/{quiz}.yaml is missing or could not be read")
    folder = f"courses/{course.slug}/"
    first_use: dict[str, Lesson] = {}
    for lesson in course.lessons:
        _check_lesson(lesson, course.images, folder, problems)
        if lesson.id in first_use:
            _Report(lesson.path, problems).add(
                lesson.source.line_of("id"),
                f"lesson id '{lesson.id}' is already used by {first_use[lesson.id].file}")
        elif lesson.id:
            first_use[lesson.id] = lesson


def _check_job_aid(job_aid: JobAid, problems: list[Problem]) -> None:
    report = _Report(job_aid.path, problems)
    _check_slug(report, "job aid file name", job_aid.slug)
    _closed(report, "", job_aid.source, 1, _JOB_AID_FIELDS)
    _check_markdown(report, parse_tokens(job_aid.body), job_aid.body_line, job_aid.images,
                    "courses/_job-aids/")


# -- quizzes -----------------------------------------------------------------

_QUIZ_FIELDS: Fields = {
    "title": (True, _text),
    "description": (False, _text),
    "pass_mark": (True, _integer(1, 100)),
    "time_limit_minutes": (True, _integer(1, 600, nullable=True)),
    "attempts": (True, None),
    "review": (True, _one_of(*REVIEW_MODES)),
    "multiple_response_scoring": (False, _one_of(*MULTIPLE_RESPONSE_SCORING)),
    "draw": (True, None),
    "questions": (True, None),
}
_ATTEMPTS_FIELDS: Fields = {
    "max": (True, _integer(1, nullable=True)),
    "cooldown_minutes": (True, _integer(0)),
}
_DRAW_FIELDS: Fields = {
    "phase": (True, _one_of(*PHASES)),
    "count": (True, _integer(1)),
    "types": (False, _list_of(_one_of(*QUESTION_TYPES), unique=True)),
}
_COMMON_FIELDS: Fields = {
    "id": (True, _slug),
    "type": (True, _one_of(*QUESTION_TYPES)),
    "phase": (True, _one_of(*PHASES)),
    "difficulty": (True, _one_of(*DIFFICULTIES)),
    "points": (False, _integer(1, 10)),
    "explanation": (True, _cites_article),
    "references": (True, _references),
}
_TYPE_FIELDS: dict[str, Fields] = {
    "single_choice": {"prompt": (True, _text), "options": (True, None), "correct": (True, None)},
    "true_false": {"prompt": (True, _text), "correct": (True, None),
                   "feedback_true": (True, _text), "feedback_false": (True, _text)},
    "call_simulation": {"title": (True, _text), "scenario": (True, _text),
                        "start": (True, _slug), "nodes": (True, None)},
}
_TYPE_FIELDS["multiple_response"] = _TYPE_FIELDS["ordering"] = _TYPE_FIELDS["single_choice"]
_OPTION_FIELDS: Fields = {"id": (True, _slug), "text": (True, _text), "feedback": (True, _text)}
_NODE_FIELDS: Fields = {"id": (True, _slug), "caller": (True, _text),
                        "choices": (False, None), "end": (False, _end)}
_CHOICE_FIELDS: Fields = {"id": (True, _slug), "text": (True, _text), "feedback": (True, _text),
                          "score": (True, _integer(0, 3)), "next": (True, _slug)}


def _check_options(report: _Report, label: str, item: LineDict) -> list[str]:
    """Check a choice item's options; return their ids in file order."""
    options = _items(report, label, item, "options", min_items=2, max_items=8)
    for index, (line, option) in enumerate(options):
        _closed(report, f"{label}, {_name('option', option, index)}", option, line, _OPTION_FIELDS)
    return list(_unique_ids(report, label, "option", options))


def _check_correct(report: _Report, label: str, item: LineDict, kind: str,
                   option_ids: list[str]) -> None:
    """The key: a bool, one option id, or a list of option ids (see the format)."""
    if "correct" not in item:
        return
    at = _prefix(label)
    value, line = item["correct"], item.line_of("correct")
    among = f"is not among the options ({', '.join(option_ids)})"
    if kind == "true_false":
        if not isinstance(value, bool):
            report.add(line, f"{at}'correct' must be true or false, got {_describe(value)}")
    elif kind == "single_choice":
        if not isinstance(value, str):
            report.add(line, f"{at}'correct' must be one option id, got {_describe(value)}")
        elif option_ids and value not in option_ids:
            report.add(line, f"{at}correct answer '{value}' {among}")
    elif not isinstance(value, list) or not value:
        report.add(line, f"{at}'correct' must be a non-empty list of option ids, "
                         f"got {_describe(value)}")
    else:
        seen: set[str] = set()
        for index, answer in enumerate(value):
            answer_line = value.line_of(index)
            if not isinstance(answer, str):
                report.add(answer_line, f"{at}'correct' item {index + 1} must be an option id, "
                                        f"got {_describe(answer)}")
            elif answer in seen:
                report.add(answer_line, f"{at}'correct' lists '{answer}' twice")
            elif option_ids and answer not in option_ids:
                report.add(answer_line, f"{at}correct answer '{answer}' {among}")
            else:
                seen.add(answer)
        missing = [option for option in option_ids if option not in seen]
        if kind == "ordering" and missing:
            report.add(line, f"{at}'correct' must list every option in order; "
                             f"missing: {', '.join(missing)}")


class _Edge(NamedTuple):
    """A choice seen as an edge of the simulation graph."""

    node: str
    choice: str       # "choice 'a'" or "choice 2"
    score: int
    target: str
    line: int         # line of the choice's `next`


def _check_node(report: _Report, label: str, node: LineDict, edges: list[_Edge]) -> None:
    """One node's fields and shape; its usable choices are appended to `edges`."""
    has_choices, is_end = "choices" in node, node.get("end") is True
    if has_choices and is_end:
        report.add(node.line_of("end"), f"{label}: has both choices and 'end: true'; "
                                        "an ending has no choices")
    elif not has_choices and not is_end:
        report.add(node.line, f"{label}: has neither choices nor 'end: true'")
    choices = _items(report, label, node, "choices", min_items=0)
    if has_choices and not is_end and isinstance(node["choices"], list) and len(choices) < 2:
        report.add(node.line_of("choices"), f"{label}: has {_plural(len(choices), 'choice')}; "
                                            "a decision node needs at least 2")
    for index, (line, choice) in enumerate(choices):
        name = _name("choice", choice, index)
        if _closed(report, f"{label}, {name}", choice, line, _CHOICE_FIELDS) \
                and isinstance(node.get("id"), str) and isinstance(choice.get("next"), str):
            score = choice.get("score")
            score = score if isinstance(score, int) and not isinstance(score, bool) else 0
            edges.append(_Edge(node["id"], name, score, choice["next"], choice.line_of("next")))
    _unique_ids(report, label, "choice", choices)


def _back_edges(start: str, edges: Mapping[str, list[_Edge]]) -> tuple[set[str], list[_Edge]]:
    """Nodes reachable from `start`, and the edges that close a cycle."""
    reached = {start}
    on_path = {start}
    back: list[_Edge] = []
    stack = [(start, iter(edges.get(start, [])))]
    while stack:
        node, pending = stack[-1]
        edge = next(pending, None)
        if edge is None:
            stack.pop()
            on_path.discard(node)
        elif edge.target in on_path:
            back.append(edge)
        elif edge.target not in reached:
            reached.add(edge.target)
            on_path.add(edge.target)
            stack.append((edge.target, iter(edges.get(edge.target, []))))
    return reached, back


def _best_total(start: str, edges: Mapping[str, list[tuple[int, str]]]) -> int:
    """Best total score over the paths from `start`; ValueError on a cycle."""
    best: dict[str, int] = {}
    on_path: set[str] = set()

    def visit(node: str) -> int:
        if node not in best:
            if node in on_path:
                raise ValueError(f"the call can go round forever through node '{node}'")
            on_path.add(node)
            best[node] = max((score + visit(target) for score, target in edges.get(node, [])),
                             default=0)
            on_path.discard(node)
        return best[node]
    return visit(start)


def max_path_score(question: CallSimulation) -> int:
    """The best total score any path through a call simulation can reach.

    A path's result is its total divided by this, times the item's points.
    Meant for content that passed `check_tree`; raises ValueError on a cycle.
    """
    edges = {node.id: [(c.score, c.next) for c in node.choices] for node in question.nodes}
    return _best_total(question.start, edges)


def _check_simulation(report: _Report, label: str, item: LineDict) -> None:
    """Nodes, choices and the graph: every `next` exists, all nodes reached, no cycle."""
    nodes = _items(report, label, item, "nodes")
    edges: list[_Edge] = []
    for index, (line, node) in enumerate(nodes):
        node_label = f"{label}, {_name('node', node, index)}"
        if _closed(report, node_label, node, line, _NODE_FIELDS):
            _check_node(report, node_label, node, edges)
    by_id = _unique_ids(report, label, "node", nodes)
    if not by_id:
        return
    graph_ok = True
    for edge in edges:
        if edge.target not in by_id:
            graph_ok = False
            report.add(edge.line, f"{label}, node '{edge.node}', {edge.choice}: "
                                  f"'next' names no node: '{edge.target}'")
    start = item.get("start")
    if not isinstance(start, str):
        return
    if start not in by_id:
        report.add(item.line_of("start"), f"{label}: 'start' names no node: '{start}'")
        return
    outgoing: dict[str, list[_Edge]] = {node_id: [] for node_id in by_id}
    for edge in edges:
        if edge.node in outgoing and edge.target in by_id:
            outgoing[edge.node].append(edge)
    reached, back = _back_edges(start, outgoing)
    for node_id, node in by_id.items():
        if node_id not in reached:
            graph_ok = False
            report.add(node.line, f"{label}, node '{node_id}': never reached from "
                                  f"the start node '{start}'")
    for edge in back:
        graph_ok = False
        report.add(edge.line, f"{label}, node '{edge.node}', {edge.choice}: leads back to "
                              f"node '{edge.target}', so the call can go round forever")
    scores = {node_id: [(e.score, e.target) for e in out] for node_id, out in outgoing.items()}
    if graph_ok and _best_total(start, scores) == 0:
        report.add(item.line_of("start"), f"{label}: no path scores above 0, so the call "
                                          "cannot be graded")


def _check_item(report: _Report, label: str, item: LineDict) -> None:
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in _TYPE_FIELDS:
        # Without a known type the allowed fields are unknown: check the
        # common ones only, rather than call every other field unknown.
        _closed(report, label, item, item.line, _COMMON_FIELDS, allow_unknown=True)
        return
    _closed(report, label, item, item.line, {**_COMMON_FIELDS, **_TYPE_FIELDS[kind]})
    if kind == "call_simulation":
        _check_simulation(report, label, item)
    else:
        option_ids = [] if kind == "true_false" else _check_options(report, label, item)
        _check_correct(report, label, item, kind, option_ids)


def _check_draw(report: _Report, quiz: LineDict, items: list[LineDict]) -> None:
    """Each rule's fields, and whether the bank can always satisfy the rules.

    Rules draw in order and never draw an item twice, so in the worst case an
    earlier rule takes items a later rule needs. A later rule must still find
    enough after earlier rules took as many of its items as they could.
    """
    bank = [(item.get("phase"), item.get("type")) for item in items]
    earlier: list[tuple[int, set[int]]] = []     # (count, matching items) of valid rules
    for index, (line, rule) in enumerate(_items(report, "", quiz, "draw")):
        label = f"draw rule {index + 1}"
        before = len(report.problems)
        # A rule with a bad field has been reported; it cannot be held against the bank.
        if not _closed(report, label, rule, line, _DRAW_FIELDS) or len(report.problems) > before:
            continue
        phase, count, types = rule["phase"], rule["count"], rule.get("types") or QUESTION_TYPES
        matching = {i for i, (p, t) in enumerate(bank) if p == phase and t in types}
        overlaps = [(c, matching & m) for c, m in earlier]
        taken = min(len(set().union(*(o for _, o in overlaps))),
                    sum(min(c, len(o)) for c, o in overlaps))
        if len(matching) - taken < count:
            wanted = _plural(count, f"'{phase}' item")
            if "types" in rule:
                wanted += f" of type {', '.join(rule['types'])}"
            have = f"the bank has only {len(matching)}"
            if taken:
                have = f"the bank has {len(matching)} and earlier rules may take {taken} of them"
            report.add(rule.line, f"{label}: asks for {wanted} but {have}")
        earlier.append((count, matching))


def _check_quiz(quiz: Quiz, problems: list[Problem]) -> None:
    report = _Report(quiz.path, problems)
    _check_slug(report, "quiz file name", quiz.slug)
    data = quiz.source
    _closed(report, "", data, 1, _QUIZ_FIELDS)
    if "attempts" in data:
        _closed(report, "attempts", data["attempts"], data.line_of("attempts"), _ATTEMPTS_FIELDS)
    entries = _items(report, "", data, "questions")
    items: list[LineDict] = []
    for index, (line, item) in enumerate(entries):
        label = _name("question", item, index)
        if not isinstance(item, LineDict):
            report.add(line, f"{label}: must be a mapping of fields, got {_describe(item)}")
            continue
        items.append(item)
        _check_item(report, label, item)
    _unique_ids(report, "", "question", entries)
    _check_draw(report, data, items)


# -- the whole tree ----------------------------------------------------------

def validate_tree(tree: ContentTree) -> list[Problem]:
    """Every rule of the content format that the parsed tree breaks."""
    problems: list[Problem] = []
    for course in tree.courses.values():
        _check_course(course, tree, problems)
    for job_aid in tree.job_aids.values():
        _check_job_aid(job_aid, problems)
    for quiz in tree.quizzes.values():
        _check_quiz(quiz, problems)
    return problems


def check_tree(root: Path) -> list[Problem]:
    """Parse and validate the content under `root`; problems sorted by path and line."""
    tree, problems = parse_tree(root)
    problems += validate_tree(tree)
    return sorted(problems, key=lambda problem: (problem.path, problem.line))
