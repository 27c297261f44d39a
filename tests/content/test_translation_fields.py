"""A source's translatable text as the side-by-side editor's fields, and values written back (#19)."""
from __future__ import annotations

import pytest

from lms.authoring.quiz_yaml import plain
from lms.config import PROJECT_ROOT
from lms.content import parse_tree
from lms.content.translation_fields import build_text, clean, fields, source_text, value_at

COURSE = {
    "title": "Recording calls", "summary": "Why and how.", "audience": "Agents", "estimated_minutes": 20,
    "key_points": ["Say it first.", "Pause for cards."],
    "lessons": [{"id": "telling", "title": "Telling callers", "phase": "before", "key_points": ["Say it."],
                 "body": "## Say it first\n\nText.\n"},
                {"id": "pausing", "title": "Pausing", "key_points": [], "body": "## Pause\n"}],
}
SIMULATION_QUIZ = {
    "title": "Calls", "pass_mark": 80, "questions": [
        {"id": "q1", "type": "single_choice", "prompt": "Who?", "correct": "a", "explanation": "Art. 5.",
         "options": [{"id": "a", "text": "Me", "feedback": "Yes."}, {"id": "b", "text": "You", "feedback": ""}]},
        {"id": "q2", "type": "true_false", "prompt": "True?", "correct": True,
         "feedback_true": "Right.", "feedback_false": "No.", "explanation": "Art. 6."},
        {"id": "sim", "type": "call_simulation", "title": "A caller", "scenario": "Monday.", "start": "n1",
         "explanation": "Art. 32.", "nodes": [
             {"id": "n1", "caller": "Hello?", "choices": [
                 {"id": "verify", "text": "Verify", "feedback": "Good.", "score": 3, "next": "n2"},
                 {"id": "tell", "text": "Tell", "feedback": "No.", "score": 0, "critical": "A breach."}]},
             {"id": "n2", "caller": "Thanks.", "end": True}]},
    ],
}


def _names(kind: str, source: dict) -> list[str]:
    return [field.name for field in fields(kind, source_text(kind, source))]


def test_a_course_is_its_own_text_then_each_lesson_in_reading_order():
    found = fields("course", source_text("course", COURSE))
    assert [field.name for field in found] == [
        "title", "summary", "audience", "key_points/0", "key_points/1",
        "lessons/telling/title", "lessons/telling/key_points/0", "lessons/telling/body",
        "lessons/pausing/title", "lessons/pausing/body"]
    lesson_body = found[7]
    group = lesson_body.group
    assert (group.kind, group.number, group.title) == ("lesson", 1, "Telling callers")
    assert lesson_body.markdown and lesson_body.source == "## Say it first\n\nText.\n"
    assert (found[4].key, found[4].number) == ("key_points", 2)


def test_a_quiz_item_reads_as_asked_then_its_answers_then_what_follows():
    assert _names("quiz", SIMULATION_QUIZ) == [
        "title",
        "questions/q1/prompt", "questions/q1/options/a/text", "questions/q1/options/a/feedback",
        "questions/q1/options/b/text", "questions/q1/explanation",  # option b's empty feedback: nothing to translate
        "questions/q2/prompt", "questions/q2/feedback_true", "questions/q2/feedback_false", "questions/q2/explanation",
        "questions/sim/title", "questions/sim/scenario", "questions/sim/explanation",
        "questions/sim/nodes/n1/caller", "questions/sim/nodes/n1/choices/verify/text",
        "questions/sim/nodes/n1/choices/verify/feedback", "questions/sim/nodes/n1/choices/tell/text",
        "questions/sim/nodes/n1/choices/tell/feedback", "questions/sim/nodes/n1/choices/tell/critical",
        "questions/sim/nodes/n2/caller"]
    critical = fields("quiz", source_text("quiz", SIMULATION_QUIZ))[18]
    assert [(part.kind, part.id, part.number) for part in critical.parts] == [("node", "n1", 1), ("choice", "tell", 2)]
    assert (critical.group.kind, critical.group.number, critical.source) == ("question", 3, "A breach.")


def test_a_job_aid_has_its_tags_as_one_field_of_lines():
    aid = {"title": "A child", "tags": ["child", "minor"], "body": "1. Slow.\n"}
    found = fields("job_aid", source_text("job_aid", aid))
    assert [(field.name, field.source, field.lines) for field in found] == [
        ("title", "A child", False), ("tags", "child\nminor", True), ("body", "1. Slow.\n", False)]


def test_values_are_read_from_any_text_of_the_shape_and_written_back():
    found = fields("course", source_text("course", COURSE))
    translation = {"title": "Enregistrer", "key_points": ["Dites-le."],  # one key point short
                   "lessons": {"telling": {"title": "Prévenir", "body": "## Dites-le\n"}}}
    values = {field.name: value_at(translation, field) for field in found}
    assert values["title"] == "Enregistrer" and values["key_points/0"] == "Dites-le."
    assert values["key_points/1"] is None and values["summary"] is None and values["lessons/pausing/title"] is None

    typed = {"title": "Enregistrer", "key_points/0": "Un.", "key_points/1": "Deux.",
             "lessons/telling/body": "## Dites-le\n"}
    assert build_text(found, typed) == {"title": "Enregistrer", "key_points": ["Un.", "Deux."],
                                        "lessons": {"telling": {"body": "## Dites-le\n"}}}


def test_submitted_text_is_cleaned_as_the_files_keep_it():
    title, tags, body = fields("job_aid", source_text("job_aid", {"title": "T", "tags": ["a"], "body": "B\n"}))
    assert clean(title, "  Un enfant\r\n") == "Un enfant"
    assert clean(tags, "enfant\r\n\r\n  mineur \r\n") == "enfant\nmineur"
    assert build_text([tags], {"tags": "enfant\nmineur"}) == {"tags": ["enfant", "mineur"]}
    assert clean(body, "\r\n1. Lent.\r\n\r\n    code\r\n2. Clair.  \r\n\r\n") == "1. Lent.\n\n    code\n2. Clair.\n"
    assert clean(body, " \r\n ") == ""


@pytest.fixture(scope="module")
def shipped():
    tree, problems = parse_tree(PROJECT_ROOT)
    assert problems == []
    return tree


def _source(tree, kind: str, slug: str) -> dict:
    if kind == "course":
        course = tree.courses[slug]
        return {"title": course.title, "summary": course.summary, "audience": course.audience,
                "key_points": list(course.key_points),
                "lessons": [{"id": lesson.id, "title": lesson.title, "key_points": list(lesson.key_points),
                             "body": lesson.body} for lesson in course.lessons]}
    if kind == "quiz":
        return plain(tree.quizzes[slug].source)
    aid = tree.job_aids[slug]
    return {"title": aid.title, "tags": list(aid.tags), "body": aid.body}


def test_every_shipped_translation_fills_every_field_and_is_rebuilt_exactly_from_them(shipped):
    """The fields are exactly what a complete translation holds: read into the editor and written
    back, each shipped translation comes out as it is in its files."""
    checked = 0
    for (kind, slug, _language), translation in shipped.translations.items():
        if kind == "programme":
            continue
        found = fields(kind, source_text(kind, _source(shipped, kind, slug)))
        values = {field.name: value_at(translation.text, field) for field in found}
        assert all(values.values()), (translation.path, [name for name, value in values.items() if not value])
        assert build_text(found, values) == plain(translation.text), translation.path
        checked += 1
    assert checked >= 4 * (1 + 1 + 23)  # gdpr-essentials and its quiz, and the job aids, in four languages
