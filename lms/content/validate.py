"""Every rule of docs/content-format.md, reported as `path:line: message`.

Validation reads the mappings as written (with their line numbers) rather than
the lenient model, so it can say exactly which field is missing or wrong. It
reports every problem it finds, not only the first. The field-checking toolkit
lives in lms/checked_yaml/fields.py; each question type checks its own items
(lms/question_types); programme rules live in validate_programmes.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from markdown_it.token import Token

from lms.checked_yaml.fields import (
    ARTICLE, SLUG, Fields, Report, check_file_slug, closed, describe, element_name, integer_value,
    list_items, list_of, one_of, plural, slug_value, text_value, unique_ids,
)
from lms.checked_yaml.problems import Problem
from lms.checked_yaml.yaml_lines import LineDict
from lms.question_types import REGISTRY

from .image_metadata import extras as image_extras
from .item_lint import lint_tree
from .markdown import (
    URL_SCHEMES, has_scheme, heading_anchors, image_sources, inline_tokens, link_targets,
    parse_tokens,
)
from .model import (
    DIFFICULTIES, MULTIPLE_RESPONSE_SCORING, PHASES, REVIEW_ALIASES, REVIEW_MODES, ContentTree, Course,
    JobAid, Lesson, Quiz,
)
from .validate_programmes import check_programme

# A quiz item's `teaches`: "<course slug>/<lesson id>#<heading anchor>".
TEACHES = re.compile(r"^([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9-]*)#([a-z0-9][a-z0-9-]*)$")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


# -- value checks ------------------------------------------------------------

def _cites_article(value: Any, line: int) -> Iterator[tuple[int, str]]:
    problems = list(text_value(value, line))
    yield from problems
    if not problems and not ARTICLE.search(value):
        yield line, "must cite an article, e.g. '(Art. 12(3))'"


def _references(value: Any, line: int) -> Iterator[tuple[int, str]]:
    problems = list(list_of(text_value, unique=True)(value, line))
    yield from problems
    if not problems and not any(ARTICLE.search(reference) for reference in value):
        yield line, "must include at least one article, e.g. 'Art. 12(3)'"


def _review(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if value not in REVIEW_ALIASES:   # an older name is still read, but not offered
        yield from one_of(*REVIEW_MODES)(value, line)


def _teaches(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str) or not TEACHES.match(value):
        yield line, ("must name a lesson section as <course>/<lesson id>#<section>, such as "
                     f"'recording-calls/telling-callers#say-it-first', got {describe(value)}")


def _lesson_file(value: Any, line: int) -> Iterator[tuple[int, str]]:
    if not isinstance(value, str) or "/" in value or "\\" in value \
            or not value.endswith(".md") or not SLUG.match(value[:-3]):
        yield line, ("must be the name of a .md file in the course folder, such as "
                     f"'01-choosing-the-basis.md', got {describe(value)}")


# -- Markdown ----------------------------------------------------------------

def _check_image(src: str, images: Mapping[str, bytes], folder: str) -> str | None:
    """What is wrong with an image reference, if anything; `folder` ends in '/'."""
    shown = describe(src)
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
    carried = image_extras(images[src])
    if carried:
        return (f"image {shown} has {', '.join(carried)}: save it again as a plain picture, without "
                "metadata (an image uploaded in the browser is cleaned for you)")
    return None


def _check_markdown(report: Report, tokens: Sequence[Token], body_line: int,
                    images: Mapping[str, bytes], folder: str) -> None:
    """Raw HTML and image rules, for lessons and job aids alike."""
    html = [(t.map[0], t.content) for t in tokens if t.type == "html_block" and t.map]
    html += [(line, t.content) for line, t in inline_tokens(tokens) if t.type == "html_inline"]
    for line, content in sorted(html, key=lambda found: found[0]):
        report.add(body_line + line,
                   f"raw HTML is not allowed: {describe(content.strip())}; use Markdown instead")
    for line, src in image_sources(tokens):
        message = _check_image(src, images, folder)
        if message:
            report.add(body_line + line, message)
    for line, href in link_targets(tokens):
        scheme = _SCHEME.match(href)
        if scheme and scheme.group(1).lower() not in URL_SCHEMES:
            # The renderer would drop the href and leave dead text.
            report.add(body_line + line, f"link {describe(href)} must use "
                                         f"{', '.join(sorted(URL_SCHEMES))} or a relative path")


def _check_sections(report: Report, tokens: Sequence[Token], body: str, body_line: int) -> None:
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
            report.add(body_line + start, f"section {describe(title)} cites no article: "
                                          "add one such as '(Art. 13(1))'")


# -- courses, lessons, job aids ---------------------------------------------

_COURSE_FIELDS: Fields = {
    "title": (True, text_value),
    "summary": (True, text_value),
    "audience": (True, text_value),
    "estimated_minutes": (True, integer_value(1, 600)),
    "phases": (True, list_of(one_of(*PHASES), unique=True)),
    "lessons": (True, list_of(_lesson_file, unique=True)),
    "quiz": (False, slug_value),
    "key_points": (True, list_of(text_value)),
}
_LESSON_FIELDS: Fields = {
    "id": (True, slug_value),
    "title": (True, text_value),
    "phase": (True, one_of(*PHASES)),
    "minutes": (True, integer_value(1, 120)),
    "references": (True, _references),
    "key_points": (True, list_of(text_value)),
}
_JOB_AID_FIELDS: Fields = {
    "title": (True, text_value),
    "phase": (True, one_of(*PHASES)),
    "tags": (True, list_of(text_value, min_items=0)),
    "references": (True, _references),
}


def _check_lesson(lesson: Lesson, images: Mapping[str, bytes], folder: str,
                  problems: list[Problem]) -> None:
    report = Report(lesson.path, problems)
    closed(report, "", lesson.source, 1, _LESSON_FIELDS)
    tokens = parse_tokens(lesson.body)
    _check_markdown(report, tokens, lesson.body_line, images, folder)
    _check_sections(report, tokens, lesson.body, lesson.body_line)


def _check_course(course: Course, tree: ContentTree, problems: list[Problem]) -> None:
    report = Report(course.path, problems)
    check_file_slug(report, "course folder name", course.slug)
    closed(report, "", course.source, 1, _COURSE_FIELDS)
    quiz = course.source.get("quiz")
    if isinstance(quiz, str) and SLUG.match(quiz) and quiz not in tree.quizzes:
        report.add(course.source.line_of("quiz"),
                   f"quiz '{quiz}' not found: quizzes/{quiz}.yaml is missing or could not be read")
    folder = f"courses/{course.slug}/"
    first_use: dict[str, Lesson] = {}
    for lesson in course.lessons:
        _check_lesson(lesson, course.images, folder, problems)
        if lesson.id in first_use:
            Report(lesson.path, problems).add(
                lesson.source.line_of("id"),
                f"lesson id '{lesson.id}' is already used by {first_use[lesson.id].file}")
        elif lesson.id:
            first_use[lesson.id] = lesson


def _check_job_aid(job_aid: JobAid, problems: list[Problem]) -> None:
    report = Report(job_aid.path, problems)
    check_file_slug(report, "job aid file name", job_aid.slug)
    closed(report, "", job_aid.source, 1, _JOB_AID_FIELDS)
    _check_markdown(report, parse_tokens(job_aid.body), job_aid.body_line, job_aid.images,
                    "courses/_job-aids/")


# -- quizzes -----------------------------------------------------------------

_QUIZ_FIELDS: Fields = {
    "title": (True, text_value),
    "description": (False, text_value),
    "pass_mark": (True, integer_value(1, 100)),
    "time_limit_minutes": (True, integer_value(1, 600, nullable=True)),
    "attempts": (True, None),
    "review": (False, _review),
    "multiple_response_scoring": (False, one_of(*MULTIPLE_RESPONSE_SCORING)),
    "draw": (True, None),
    "questions": (True, None),
}
_ATTEMPTS_FIELDS: Fields = {
    "max": (True, integer_value(1, nullable=True)),
    "cooldown_minutes": (True, integer_value(0)),
}
def _question_type(value: Any, line: int) -> Iterator[tuple[int, str]]:
    """A registered question type's name (read when checked: a type registered later counts)."""
    yield from one_of(*REGISTRY)(value, line)


_DRAW_FIELDS: Fields = {
    "phase": (True, one_of(*PHASES)),
    "count": (True, integer_value(1)),
    "types": (False, list_of(_question_type, unique=True)),
}
_COMMON_FIELDS: Fields = {
    "id": (True, slug_value),
    "type": (True, _question_type),
    "phase": (True, one_of(*PHASES)),
    "difficulty": (True, one_of(*DIFFICULTIES)),
    "points": (False, integer_value(1, 10)),
    "explanation": (True, _cites_article),
    "references": (True, _references),
    "teaches": (False, _teaches),
}


def _check_item(report: Report, label: str, item: LineDict, pass_mark: Any) -> None:
    """The common fields, then the item's type checks its own (lms/question_types)."""
    qtype = REGISTRY.get(item.get("type")) if isinstance(item.get("type"), str) else None
    if qtype is None:
        # Without a known type the allowed fields are unknown: check the
        # common ones only, rather than call every other field unknown.
        closed(report, label, item, item.line, _COMMON_FIELDS, allow_unknown=True)
        return
    closed(report, label, item, item.line, {**_COMMON_FIELDS, **qtype.fields})
    qtype.check(report, label, item, pass_mark)


def _check_draw(report: Report, quiz: LineDict, items: list[LineDict]) -> None:
    """Each rule's fields, and whether the bank can always satisfy the rules.

    Rules draw in order and never draw an item twice, so in the worst case an
    earlier rule takes items a later rule needs. A later rule must still find
    enough after earlier rules took as many of its items as they could.
    """
    bank = [(item.get("phase"), item.get("type")) for item in items]
    earlier: list[tuple[int, set[int]]] = []     # (count, matching items) of valid rules
    for index, (line, rule) in enumerate(list_items(report, "", quiz, "draw")):
        label = f"draw rule {index + 1}"
        before = len(report.problems)
        # A rule with a bad field has been reported; it cannot be held against the bank.
        if not closed(report, label, rule, line, _DRAW_FIELDS) or len(report.problems) > before:
            continue
        phase, count, types = rule["phase"], rule["count"], rule.get("types") or tuple(REGISTRY)
        matching = {i for i, (p, t) in enumerate(bank) if p == phase and t in types}
        overlaps = [(c, matching & m) for c, m in earlier]
        taken = min(len(set().union(*(o for _, o in overlaps))),
                    sum(min(c, len(o)) for c, o in overlaps))
        if len(matching) - taken < count:
            wanted = plural(count, f"'{phase}' item")
            if "types" in rule:
                wanted += f" of type {', '.join(rule['types'])}"
            have = f"the bank has only {len(matching)}"
            if taken:
                have = f"the bank has {len(matching)} and earlier rules may take {taken} of them"
            report.add(rule.line, f"{label}: asks for {wanted} but {have}")
        earlier.append((count, matching))


def _check_quiz(quiz: Quiz, problems: list[Problem]) -> None:
    report = Report(quiz.path, problems)
    check_file_slug(report, "quiz file name", quiz.slug)
    data = quiz.source
    closed(report, "", data, 1, _QUIZ_FIELDS)
    if "attempts" in data:
        closed(report, "attempts", data["attempts"], data.line_of("attempts"), _ATTEMPTS_FIELDS)
    entries = list_items(report, "", data, "questions")
    items: list[LineDict] = []
    for index, (line, item) in enumerate(entries):
        label = element_name("question", item, index)
        if not isinstance(item, LineDict):
            report.add(line, f"{label}: must be a mapping of fields, got {describe(item)}")
            continue
        items.append(item)
        _check_item(report, label, item, data.get("pass_mark"))
    unique_ids(report, "", "question", entries)
    _check_draw(report, data, items)


def _check_teaches(quiz: Quiz, tree: ContentTree, problems: list[Problem]) -> None:
    """Each item's `teaches` names a lesson of a course in the tree, and a heading of it."""
    report = Report(quiz.path, problems)
    questions = quiz.source.get("questions")
    for item in questions if isinstance(questions, list) else []:
        found = TEACHES.match(item["teaches"]) \
            if isinstance(item, LineDict) and isinstance(item.get("teaches"), str) else None
        if found is None:
            continue    # no link, or a malformed one that the field check reported
        slug, key, anchor = found.groups()
        at, line = f"question '{item.get('id')}': 'teaches'", item.line_of("teaches")
        course = tree.courses.get(slug)
        lesson = next((each for each in course.lessons if each.id == key), None) if course else None
        if course is None:
            report.add(line, f"{at} names course '{slug}', which does not exist")
        elif lesson is None:
            report.add(line, f"{at} names lesson '{key}', which course '{slug}' does not have "
                             f"(its lessons: {', '.join(each.id for each in course.lessons)})")
        else:
            anchors = [found_anchor for _, found_anchor, _ in heading_anchors(parse_tokens(lesson.body))]
            if anchor not in anchors:
                report.add(line, f"{at}: lesson '{slug}/{key}' has no section '#{anchor}' (its "
                                 f"sections: {', '.join(anchors) or 'none'})")


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
        _check_teaches(quiz, tree, problems)
    for programme in tree.programmes.values():
        check_programme(programme, tree, problems)
    return problems


def check_tree(root: Path) -> list[Problem]:
    """Parse and validate the content under `root`; problems sorted by path and line."""
    return check_content(root)[0]


def check_content(root: Path) -> tuple[list[Problem], list[Problem]]:
    """`check_tree`'s problems, and the warnings: item_lint's item-writing ones and the stale
    translations (both sorted)."""
    # Imported here: reading builds on country_notes, which builds on this module's checks, and
    # translations on its field checks.
    from .reading import read_content
    from .translations import stale_translations

    content = read_content(root)
    return content.problems, lint_tree(content.tree) + stale_translations(content.tree)
