"""A translation written as the files the parser reads, and read back the same (#19): what a
trainer downloads after saving in the browser loads as exactly the text (and hash) saved."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lms.authoring.quiz_yaml import plain
from lms.authoring.translation_files import read_back, translation_files
from lms.config import PROJECT_ROOT
from lms.content import parse_tree


@pytest.fixture(scope="module")
def shipped():
    tree, problems = parse_tree(PROJECT_ROOT)
    assert problems == []
    return tree


def _source_files(tree, kind: str, slug: str) -> dict[str, bytes]:
    if kind == "course":
        course = tree.courses[slug]
        folder = Path(course.path).parent
        paths = [course.path] + [str(folder / lesson.file) for lesson in course.lessons] + \
            [str(folder / image) for image in course.images]
    else:
        paths = [(tree.quizzes if kind == "quiz" else tree.job_aids)[slug].path]
    return {path: (PROJECT_ROOT / path).read_bytes() for path in paths}


def _lesson_files(tree, kind: str, slug: str) -> dict[str, str] | None:
    return {lesson.id: lesson.file for lesson in tree.courses[slug].lessons} if kind == "course" else None


def test_every_shipped_translation_is_written_and_read_back_as_the_same_text_and_hash(shipped):
    checked = 0
    for (kind, slug, language), translation in sorted(shipped.translations.items()):
        if kind == "programme":
            continue
        files = translation_files(kind, slug, language, translation_of=translation.translation_of,
                                  if_stale=translation.if_stale, text=plain(translation.text),
                                  lesson_files=_lesson_files(shipped, kind, slug))
        assert translation.path in files
        back, problems = read_back(kind, slug, language, files, _source_files(shipped, kind, slug))
        assert problems == [], translation.path
        assert plain(back.text) == plain(translation.text), translation.path
        assert back.content_hash == translation.content_hash, translation.path
        checked += 1
    assert checked >= 4 * 25


def test_a_course_translation_is_its_course_file_and_one_file_per_lesson(shipped):
    translation = shipped.translations["course", "gdpr-essentials", "fr"]
    files = translation_files("course", "gdpr-essentials", "fr", translation_of="a" * 64, if_stale="translation",
                              text=plain(translation.text),
                              lesson_files=_lesson_files(shipped, "course", "gdpr-essentials"))
    assert sorted(files) == [f"courses/gdpr-essentials/{name}" for name in (
        "01-principles.fr.md", "02-lawful-bases.fr.md", "03-consent.fr.md", "04-special-category-data.fr.md",
        "05-accountability-and-fines.fr.md", "course.fr.yaml")]
    main = yaml.safe_load(files["courses/gdpr-essentials/course.fr.yaml"])
    assert list(main)[:3] == ["translation_of", "if_stale", "title"] and "lessons" not in main
    lesson = files["courses/gdpr-essentials/01-principles.fr.md"]
    assert lesson.startswith("---\ntitle: Six principes") and "\n---\n## Transparence" in lesson
    # Long sentences are folded blocks, as translators write them, not 300-character lines.
    assert "summary: >-\n" in files["courses/gdpr-essentials/course.fr.yaml"]


def test_the_default_rule_for_a_stale_translation_is_left_unsaid():
    files = translation_files("quiz", "q", "es", translation_of="b" * 64, if_stale="source",
                              text={"title": "T", "questions": {}})
    assert yaml.safe_load(files["quizzes/q.es.yaml"]) == {"translation_of": "b" * 64, "title": "T", "questions": {}}


AWKWARD = ["  starts with spaces", "ends with spaces  ", "key: value # not a comment", "'quoted' and \"double\"",
           "- looks like a list", "yes", "", "tab\tinside", "line one\nline two\n\n", "« guillemets » : ponctuation",
           "اللائحة العامة لحماية البيانات " * 8, "one sentence " * 20 + "ends", "---", "trailing newline\n"]


@pytest.mark.parametrize("value", AWKWARD)
def test_text_that_yaml_could_misread_comes_back_as_typed(value):
    quiz = "title: Q\npass_mark: 80\nquestions:\n  - id: q1\n    type: true_false\n    prompt: P\n    correct: true\n" \
           "    feedback_true: A\n    feedback_false: B\n    explanation: Art. 5.\n    references: [Art. 5]\n"
    text = {"title": value, "questions": {"q1": {"prompt": value}}}
    files = translation_files("quiz", "q", "fr", translation_of="c" * 64, if_stale="source", text=text)
    back, _problems = read_back("quiz", "q", "fr", files, {"quizzes/q.yaml": quiz})
    assert plain(back.text) == text


def test_a_job_aid_body_and_front_matter_come_back_as_typed():
    text = {"title": "Un enfant", "tags": ["enfant", "âge: 12"], "body": "---\n1. Lent.\n\n---\n"}
    files = translation_files("job_aid", "child", "fr", translation_of="d" * 64, if_stale="source", text=text)
    source = {"courses/_job-aids/child.md":
              "---\ntitle: A child\nphase: during\ntags: [child]\nreferences: [Art. 8]\n---\nBody\n"}
    back, problems = read_back("job_aid", "child", "fr", files, source)
    assert problems == [] and plain(back.text) == text


def test_reading_back_reports_what_content_check_would_in_the_translation_only(shipped):
    translation = plain(shipped.translations["course", "gdpr-essentials", "fr"].text)
    translation["lessons"]["consent"]["body"] = "Pas de titres.\n"
    source = _source_files(shipped, "course", "gdpr-essentials")
    course = shipped.courses["gdpr-essentials"]
    files = translation_files("course", "gdpr-essentials", "fr", translation_of=course.content_hash, if_stale="source",
                              text=translation, lesson_files=_lesson_files(shipped, "course", "gdpr-essentials"))
    _back, problems = read_back("course", "gdpr-essentials", "fr", files, source)
    assert [(problem.path, "keep the source's headings" in problem.message) for problem in problems] == [
        ("courses/gdpr-essentials/03-consent.fr.md", True)]
