"""Lesson section anchors, and a quiz item's `teaches`: it must name a real lesson section."""
from __future__ import annotations

import pytest

from lms.content import parse_tree, render_markdown
from lms.content.markdown import heading_anchor
from tests.content.tree import copy_valid, edit, problems

QUIZ = "quizzes/recording-calls.yaml"


@pytest.mark.parametrize("title, anchor", [
    ("72 hours from awareness (Art. 33(1))", "72-hours-from-awareness"),
    ('"Delete me" - erasure and its exceptions (Art. 17)', "delete-me-erasure-and-its-exceptions"),
    ("One purpose, and only what it needs (Art. 5(1)(b) and (c))", "one-purpose-and-only-what-it-needs"),
    ("Legitimate interests", "legitimate-interests"),
    ("Why (a) matters here", "why-a-matters-here"),      # brackets inside the title stay
    ("(Art. 5)", "art-5"),                                # nothing but a citation: it is the title
])
def test_a_heading_anchor_is_its_words_without_the_closing_citation(title, anchor):
    assert heading_anchor(title) == anchor


def test_rendered_headings_carry_their_anchor_and_repeats_are_numbered():
    html = render_markdown("## Say it first (Art. 13(1))\n\nText.\n\n## Say it first\n\n### Then (Art. 13(2))\n")
    assert html == ('<h2 id="say-it-first">Say it first (Art. 13(1))</h2>\n<p>Text.</p>\n'
                    '<h2 id="say-it-first-2">Say it first</h2>\n<h3 id="then">Then (Art. 13(2))</h3>\n')


def test_an_id_written_by_hand_is_not_let_through():
    # Markdown has no syntax for ids; raw HTML is escaped before nh3 sees it.
    html = render_markdown('<h2 id="x">Hi</h2>\n\n## Hi')
    assert '<h2 id="x">' not in html and '<h2 id="hi">Hi</h2>' in html


def _with_teaches(tmp_path, value: str):
    root = copy_valid(tmp_path)
    edit(root, QUIZ, "  - id: verbal-sar\n", f"  - id: verbal-sar\n    teaches: {value}\n")
    return root


def test_a_link_to_a_lesson_section_is_valid_and_parsed(tmp_path):
    root = _with_teaches(tmp_path, "recording-calls/telling-callers#say-it-first")
    assert problems(root) == []
    tree, _ = parse_tree(root)
    [item] = [q for q in tree.quizzes["recording-calls"].questions if q.id == "verbal-sar"]
    assert item.teaches == "recording-calls/telling-callers#say-it-first"


@pytest.mark.parametrize("value, message", [
    ("recording-calls/telling-callers", "'teaches' must name a lesson section as "
     "<course>/<lesson id>#<section>, such as 'recording-calls/telling-callers#say-it-first', "
     "got 'recording-calls/telling-callers'"),
    ("no-course/telling-callers#say-it-first",
     "question 'verbal-sar': 'teaches' names course 'no-course', which does not exist"),
    ("recording-calls/no-lesson#say-it-first", "question 'verbal-sar': 'teaches' names lesson "
     "'no-lesson', which course 'recording-calls' does not have (its lessons: choosing-the-basis, "
     "telling-callers)"),
    ("recording-calls/telling-callers#say-it-last", "question 'verbal-sar': 'teaches': lesson "
     "'recording-calls/telling-callers' has no section '#say-it-last' (its sections: say-it-first, "
     "offer-the-full-notice)"),
])
def test_a_link_to_no_lesson_section_is_an_error_at_its_line(tmp_path, value, message):
    [problem] = problems(_with_teaches(tmp_path, value))
    assert problem.startswith(f"{QUIZ}:14: ") and problem.endswith(message)
