"""Validation: every rule of docs/content-format.md, as exact `path:line: message` strings."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.content.tree import FIXTURES, VALID, copy_valid, edit, problems

from lms.content import parse_tree
from lms.content.__main__ import main

BROKEN = FIXTURES / "broken"
COURSE = "courses/recording-calls"
LESSON_1 = f"{COURSE}/01-choosing-the-basis.md"
LESSON_2 = f"{COURSE}/02-telling-callers.md"
QUIZ = "quizzes/recording-calls.yaml"


def problems_after(tmp_path: Path, rel: str, old: str, new: str) -> list[str]:
    """The problems of the valid tree after one edit."""
    root = copy_valid(tmp_path)
    edit(root, rel, old, new)
    return problems(root)


def test_the_valid_fixture_has_no_problems():
    assert problems(VALID) == []


# Every problem in the broken fixture tree, by file: "line: message" ("" for
# the file as a whole), in the order check_tree reports them.
BROKEN_EXPECTED = {
    "courses/_job-aids/Bad_Name.md": [
        ": job aid file name 'Bad_Name' is not a slug: use lowercase letters, digits and hyphens",
        "2: missing required field 'references'",
        "4: 'tags' must be a list, got 'SAR'",
        "6: raw HTML is not allowed: '<em>'; use Markdown instead",
        "6: raw HTML is not allowed: '</em>'; use Markdown instead",
        "7: image 'http://tracker.example/p.png' must be a file inside courses/_job-aids/, "
        "not a URL",
    ],
    "courses/bad-course/01-intro.md": [
        "4: 'phase' must be one of before, during, after, got 'whenever'",
        "5: 'minutes' must be an integer from 1 to 120, got 121",
        "6: 'references' must include at least one article, e.g. 'Art. 12(3)'",
        "8: unknown field 'colour' (allowed: id, title, phase, minutes, references, key_points)",
        "10: text before the first '## ' heading: each section must start with one",
        "12: section 'A section without a citation' cites no article: "
        "add one such as '(Art. 13(1))'",
        "14: raw HTML is not allowed: '<b>'; use Markdown instead",
        "14: raw HTML is not allowed: '</b>'; use Markdown instead",
        "18: image 'https://example.com/x.png' must be a file inside courses/bad-course/, "
        "not a URL",
        "19: image '/etc/passwd.png' must be a path relative to courses/bad-course/, "
        "without a leading '/'",
        "19: image '../other/img.png' must stay inside courses/bad-course/: '..' is not allowed",
        "20: image 'img/a.gif' must be a PNG or JPEG file (.png, .jpg, .jpeg)",
        "20: image 'img/none.png' not found: there is no courses/bad-course/img/none.png",
        "21: image 'img/fake.png' is not a PNG or JPEG image",
        "23: raw HTML is not allowed: '<script>alert(1)</script>'; use Markdown instead",
    ],
    "courses/bad-course/03-again.md": [
        "2: lesson id 'intro' is already used by 01-intro.md",
    ],
    "courses/bad-course/04-bad-yaml.md": [
        "5: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ],
    "courses/bad-course/05-no-front-matter.md": [
        "1: must start with YAML front matter: a '---' line, the fields, then '---'",
    ],
    "courses/bad-course/course.yaml": [
        "1: missing required field 'summary'",
        "2: unknown field 'sumary' (did you mean 'summary'?)",
        "4: 'estimated_minutes' must be an integer from 1 to 600, got 0",
        "5: 'phases' item 2 must be one of before, during, after, got 'durring'",
        "5: 'phases' lists 'before' twice",
        "8: lesson file '02-missing.md' is listed but courses/bad-course/02-missing.md "
        "does not exist",
        "9: 'lessons' lists '01-intro.md' twice",
        "10: 'lessons' item 4 must be the name of a .md file in the course folder, "
        "such as '01-choosing-the-basis.md', got '../escape.md'",
        "14: quiz 'no-such-quiz' not found: quizzes/no-such-quiz.yaml is missing "
        "or could not be read",
        "15: 'key_points' must not be empty",
    ],
    "courses/empty-folder/course.yaml": [
        ": missing: every course folder needs a course.yaml",
    ],
    "quizzes/a-list.yaml": [
        "1: a quiz file must be a mapping of fields (name: value), found a list",
    ],
    "quizzes/bad-draw.yaml": [
        "8: draw rule 2: asks for 1 'during' item of type true_false but the bank has 2 "
        "and earlier rules may take 2 of them",
        "9: draw rule 3: asks for 1 'after' item but the bank has only 0",
        "10: draw rule 4: 'count' must be an integer of at least 1, got 0",
        "10: draw rule 4: 'types' item 1 must be one of single_choice, multiple_response, "
        "true_false, ordering, call_simulation, got 'essay'",
    ],
    "quizzes/bad-questions.yaml": [
        "11: question 'verbal-sar': 'phase' must be one of before, during, after, got 'durring'",
        "12: question 'verbal-sar': 'difficulty' must be one of easy, medium, hard, "
        "got 'trivial'",
        "13: question 'verbal-sar': 'points' must be an integer from 1 to 10, got 11",
        "20: question 'verbal-sar': option id 'a' is used twice (first on line 16)",
        "21: question 'verbal-sar': correct answer 'e' is not among the options (a, b, c, d)",
        "22: question 'verbal-sar': 'explanation' must cite an article, e.g. '(Art. 12(3))'",
        "23: question 'verbal-sar': 'references' must include at least one article, "
        "e.g. 'Art. 12(3)'",
        "24: question id 'verbal-sar' is used twice (first on line 9)",
        "32: question 'verbal-sar': 'correct' lists 'a' twice",
        "32: question 'verbal-sar': correct answer 'z' is not among the options (a, b)",
        "35: question 'Bad_Id': 'id' must be a slug: lowercase letters, digits and hyphens, "
        "got 'Bad_Id'",
        "44: question 'Bad_Id': 'correct' must list every option in order; missing: z",
        "47: question 'tf': missing required field 'feedback_false'",
        "52: question 'tf': 'correct' must be true or false, got 'true'",
        "61: question 'one-option': 'options' must have at least 2 items, has 1",
        "66: question 'one-option': unknown field 'hint' (allowed: id, type, phase, "
        "difficulty, points, explanation, references, teaches, prompt, options, correct)",
        "68: question 'mystery': 'type' must be one of single_choice, multiple_response, "
        "true_false, ordering, call_simulation, got 'essay'",
    ],
    "quizzes/bad-settings.yaml": [
        "1: 'title' must not be empty",
        "2: 'pass_mark' must be an integer from 1 to 100, got 101",
        "3: 'time_limit_minutes' must be an integer from 1 to 600 or null, got 0",
        "4: attempts: unknown field 'cooldown' (did you mean 'cooldown_minutes'?)",
        "4: attempts: 'max' must be an integer of at least 1 or null, got 0",
        "4: attempts: missing required field 'cooldown_minutes'",
        "5: 'review' must be one of after_submit, after_pass, never, got 'sometimes'",
        "6: 'multiple_response_scoring' must be one of all_or_nothing, partial, "
        "got 'partially'",
        "7: unknown field 'shuffle' (allowed: title, description, pass_mark, "
        "time_limit_minutes, attempts, review, multiple_response_scoring, draw, questions)",
    ],
    "quizzes/bad-simulation.yaml": [
        "20: question 'sim', node 'n1', choice 'a': 'score' must be an integer from 0 to 3, "
        "got 4",
        "21: question 'sim', node 'n1': choice id 'a' is used twice (first on line 20)",
        "21: question 'sim', node 'n1', choice 'a': 'next' names no node: 'nowhere'",
        "25: question 'sim', node 'n2', choice 'a': leads back to node 'n1', "
        "so the call can go round forever",
        "29: question 'sim', node 'n3': has 1 choice; a decision node needs at least 2",
        "31: question 'sim', node 'n4': has neither choices nor 'end: true'",
        "31: question 'sim', node 'n4': never reached from the start node 'n1'",
        "36: question 'sim': node id 'done' is used twice (first on line 33)",
        "47: question 'sim-zero': no path scores above 0, so the call cannot be graded",
        "56: question 'sim-zero', node 'last': has both choices and 'end: true'; "
        "an ending has no choices",
        "66: question 'sim-start': 'start' names no node: 'n0'",
        "68: question 'sim-start', node 'only': 'end' must be true "
        "(leave it out at a decision node), got false",
        "68: question 'sim-start', node 'only': has neither choices nor 'end: true'",
    ],
    "quizzes/bad-yaml.yaml": [
        "1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ],
}


def test_the_broken_fixture_reports_every_problem_with_its_line():
    expected = [f"{path}:{problem}" if problem[0].isdigit() else f"{path}{problem}"
                for path, file_problems in BROKEN_EXPECTED.items() for problem in file_problems]
    assert problems(BROKEN) == expected


# -- line numbers -------------------------------------------------------------------

def test_front_matter_errors_carry_file_line_numbers(tmp_path):
    assert problems_after(tmp_path, LESSON_1, "phase: before", "phase: early") == [
        f"{LESSON_1}:4: 'phase' must be one of before, during, after, got 'early'"]


def test_crlf_files_report_the_same_lines(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, LESSON_1, "minutes: 6", "minutes: 600")
    edit(root, LESSON_1, "It needs one", "It <i>needs</i> one")
    path = root / LESSON_1
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert problems(root) == [
        f"{LESSON_1}:5: 'minutes' must be an integer from 1 to 120, got 600",
        f"{LESSON_1}:12: raw HTML is not allowed: '<i>'; use Markdown instead",
        f"{LESSON_1}:12: raw HTML is not allowed: '</i>'; use Markdown instead",
    ]


def test_inline_html_on_a_paragraphs_second_line_reports_that_line(tmp_path):
    assert problems_after(tmp_path, LESSON_2, "recorded and why.",
                          "recorded and <span onclick=x>why</span>.") == [
        f"{LESSON_2}:14: raw HTML is not allowed: '<span onclick=x>'; use Markdown instead",
        f"{LESSON_2}:14: raw HTML is not allowed: '</span>'; use Markdown instead",
    ]


def test_html_comments_and_blocks_are_reported(tmp_path):
    assert problems_after(tmp_path, LESSON_2, "![A headset on a desk](img/headset.png)\n",
                          "<!-- note -->\n\n<iframe src=x></iframe>\n") == [
        f"{LESSON_2}:16: raw HTML is not allowed: '<!-- note -->'; use Markdown instead",
        f"{LESSON_2}:18: raw HTML is not allowed: '<iframe src=x></iframe>'; "
        "use Markdown instead",
    ]


def test_tags_inside_code_are_text_not_html(tmp_path):
    assert problems_after(tmp_path, LESSON_2, "recorded and why.\n",
                          "recorded and why: `<b>` is code.\n\n```\n<script>x</script>\n```\n"
                          "\n    <div>indented code</div>\n") == []


# -- courses and lessons ----------------------------------------------------------

def test_a_course_quiz_must_name_a_quiz_file(tmp_path):
    assert problems_after(tmp_path, f"{COURSE}/course.yaml", "quiz: recording-calls",
                          "quiz: recording") == [
        f"{COURSE}/course.yaml:9: quiz 'recording' not found: "
        "quizzes/recording.yaml is missing or could not be read"]


def test_lesson_ids_are_unique_in_a_course(tmp_path):
    assert problems_after(tmp_path, LESSON_2, "id: telling-callers", "id: choosing-the-basis") == [
        f"{LESSON_2}:2: lesson id 'choosing-the-basis' is already used by 01-choosing-the-basis.md"]


def test_lesson_missing_fields_and_reference_types(tmp_path):
    assert problems_after(tmp_path, LESSON_1,
                          'title: Choosing the lawful basis\n', 'references2: "Art. 6"\n') == [
        f"{LESSON_1}:2: missing required field 'title'",
        f"{LESSON_1}:3: unknown field 'references2' (did you mean 'references'?)",
    ]
    assert problems_after(tmp_path / "b", LESSON_1, 'references: ["Art. 6(1)(f)", "Recital 47"]',
                          "references: Art. 6") == [
        f"{LESSON_1}:6: 'references' must be a list, got 'Art. 6'"]


def test_every_section_cites_an_article(tmp_path):
    assert problems_after(tmp_path, LESSON_2, "as Art. 13(2) requires.",
                          "as the law requires.") == [
        f"{LESSON_2}:18: section 'Offer the full notice' cites no article: "
        "add one such as '(Art. 13(1))'"]


def test_a_heading_inside_a_quote_does_not_start_a_section(tmp_path):
    assert problems_after(tmp_path, LESSON_2, "recorded and why.\n",
                          "recorded and why.\n\n> ## What a caller once said\n> No citation.\n"
                          ) == []


def test_a_lesson_needs_sections(tmp_path):
    root = copy_valid(tmp_path)
    path = root / LESSON_1
    front, _ = path.read_text(encoding="utf-8").split("## Why", 1)
    path.write_text(front + "Just a paragraph (Art. 6).\n", encoding="utf-8")
    (root / LESSON_2).write_text(
        (root / LESSON_2).read_text(encoding="utf-8").split("## Say", 1)[0], encoding="utf-8")
    assert problems(root) == [
        f"{LESSON_1}:10: lesson has no '## ' sections: each section starts with a '## ' heading "
        "and cites an article",
        f"{LESSON_2}:10: lesson has no text: add '## ' sections that cite articles",
    ]


@pytest.mark.parametrize(("src", "message"), [
    ("img/missing.png", "image 'img/missing.png' not found: "
                        f"there is no {COURSE}/img/missing.png"),
    ("https://cdn.example/a.png", "image 'https://cdn.example/a.png' must be a file inside "
                                  f"{COURSE}/, not a URL"),
    ("data:image/png;base64,iVBORw0KGgo=", "image 'data:image/png;base64,iVBORw0KGgo=' must be "
                                           f"a file inside {COURSE}/, not a URL"),
    ("file:///etc/headset.png", f"image 'file:///etc/headset.png' must be a file inside "
                                f"{COURSE}/, not a URL"),
    ("//cdn.example/a.png", f"image '//cdn.example/a.png' must be a file inside {COURSE}/, "
                            "not a URL"),
    ("/img/headset.png", f"image '/img/headset.png' must be a path relative to {COURSE}/, "
                         "without a leading '/'"),
    ("img/../../x/headset.png", "image 'img/../../x/headset.png' must stay inside "
                                f"{COURSE}/: '..' is not allowed"),
    ("%2e%2e/headset.png", f"image '../headset.png' must stay inside {COURSE}/: "
                           "'..' is not allowed"),
    ("img/headset.svg", "image 'img/headset.svg' must be a PNG or JPEG file (.png, .jpg, .jpeg)"),
])
def test_image_rules(tmp_path, src, message):
    assert problems_after(tmp_path, LESSON_2, "(img/headset.png)", f"({src})") == [
        f"{LESSON_2}:16: {message}"]


def test_links_must_use_a_scheme_the_renderer_keeps(tmp_path):
    links = ("recorded ([why](https://edpb.europa.eu), [ask](mailto:dpo@example.org),\n"
             "[page](other.html)) [run](JaVaScRiPt:alert(1)) [get](ftp://x.example/f)")
    assert problems_after(tmp_path, LESSON_2, "recorded and why.", links) == [
        f"{LESSON_2}:15: link 'JaVaScRiPt:alert(1)' must use http, https, mailto "
        "or a relative path",
        f"{LESSON_2}:15: link 'ftp://x.example/f' must use http, https, mailto or a relative path",
    ]


def test_images_may_be_jpeg_and_in_subfolders(tmp_path):
    root = copy_valid(tmp_path)
    (root / COURSE / "img/photos").mkdir()
    (root / COURSE / "img/photos/desk.JPG").write_bytes(_jpeg())
    edit(root, LESSON_2, "(img/headset.png)", "(img/photos/desk.JPG)")
    assert problems(root) == []


def test_a_bad_course_folder_name(tmp_path):
    root = copy_valid(tmp_path)
    (root / COURSE).rename(root / "courses/Recording_Calls")
    assert problems(root) == [
        "courses/Recording_Calls/course.yaml: course folder name 'Recording_Calls' is not "
        "a slug: use lowercase letters, digits and hyphens",
        # The fixture programme requires the course by its old name.
        "programmes/recorded-lines.yaml:7: requirement 1: course 'recording-calls' not found: "
        "courses/recording-calls/course.yaml is missing or could not be read"]


def test_job_aid_images_resolve_in_the_job_aids_folder(tmp_path):
    assert problems_after(tmp_path, "courses/_job-aids/caller-asks-for-data.md",
                          "3. Route it to the privacy team.",
                          "3. Route it: ![form](img/form.png)") == [
        "courses/_job-aids/caller-asks-for-data.md:9: image 'img/form.png' not found: "
        "there is no courses/_job-aids/img/form.png"]


# -- quizzes ----------------------------------------------------------------------

def test_multiple_response_errors_point_at_the_list_item(tmp_path):
    assert problems_after(tmp_path, QUIZ, "correct: [a, b]", "correct:\n      - a\n      - d") == [
        f"{QUIZ}:42: question 'what-to-say': correct answer 'd' is not among the options "
        "(a, b, c)"]


def test_multiple_response_needs_a_non_empty_list(tmp_path):
    assert problems_after(tmp_path, QUIZ, "correct: [a, b]", "correct: a") == [
        f"{QUIZ}:40: question 'what-to-say': 'correct' must be a non-empty list of option ids, "
        "got 'a'"]


def test_ordering_must_be_a_permutation_of_all_options(tmp_path):
    assert problems_after(tmp_path, QUIZ, "correct: [assess, record, tell]",
                          "correct: [assess, tell, tell, sign]") == [
        f"{QUIZ}:62: question 'order-of-steps': 'correct' lists 'tell' twice",
        f"{QUIZ}:62: question 'order-of-steps': correct answer 'sign' is not among the options "
        "(assess, record, tell)",
        f"{QUIZ}:62: question 'order-of-steps': 'correct' must list every option in order; "
        "missing: record",
    ]


def test_single_choice_correct_must_be_one_option(tmp_path):
    assert problems_after(tmp_path, QUIZ, "    correct: b\n", "    correct: [b]\n") == [
        f"{QUIZ}:26: question 'verbal-sar': 'correct' must be one option id, got a list"]


def test_yaml_booleans_and_numbers_as_ids_get_a_hint(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, QUIZ, "      - id: a\n", "      - id: yes\n")
    edit(root, QUIZ, "      - id: b\n", "      - id: 2\n")
    assert problems(root) == [
        f"{QUIZ}:20: question 'verbal-sar', option 1: 'id' must be a slug: lowercase letters, "
        "digits and hyphens, got true (YAML reads yes, no, on and off as true or false: "
        "put the id in quotes)",
        f"{QUIZ}:23: question 'verbal-sar', option 2: 'id' must be a slug: lowercase letters, "
        "digits and hyphens, got 2 (YAML reads it as a number: put the id in quotes)",
    ]


def test_more_than_eight_options(tmp_path):
    options = "".join(f"      - {{id: o{i}, text: T, feedback: F}}\n" for i in range(7))
    assert problems_after(tmp_path, QUIZ, "      - {id: c, text: The agent's home town, "
                          "feedback: Not relevant.}\n", options) == [
        f"{QUIZ}:36: question 'what-to-say': 'options' must have at most 8 items, has 9"]


def test_an_item_that_is_not_a_mapping(tmp_path):
    assert problems_after(tmp_path, QUIZ, "questions:\n", "questions:\n  - just text\n") == [
        f"{QUIZ}:13: question 1: must be a mapping of fields, got 'just text'"]


def test_explanations_must_cite_an_article(tmp_path):
    assert problems_after(tmp_path, QUIZ,
                          "explanation: Art. 13(1)(c) requires the purposes of the processing.",
                          "explanation: The caller needs to know why.") == [
        f"{QUIZ}:41: question 'what-to-say': 'explanation' must cite an article, "
        "e.g. '(Art. 12(3))'"]


@pytest.mark.parametrize("citation", ["Art. 15", "Art.15", "Article 15", "Articles 13 and 14"])
def test_article_citations_that_count(tmp_path, citation):
    assert problems_after(tmp_path, QUIZ,
                          "explanation: Art. 13(1)(c) requires the purposes of the processing.",
                          f"explanation: {citation} says so.") == []


# -- call simulations ---------------------------------------------------------------

def test_a_cycle_in_a_simulation(tmp_path):
    assert problems_after(tmp_path, QUIZ, "score: 3, next: end-good}", "score: 3, next: n2}") == [
        f"{QUIZ}:93: question 'sim-impostor', node 'n4', choice 'a': leads back to node 'n2', "
        "so the call can go round forever"]


def test_unreachable_nodes_and_a_missing_next(tmp_path):
    assert problems_after(tmp_path, QUIZ, "score: 3, next: n2}", "score: 3, next: n-two}") == [
        f"{QUIZ}:78: question 'sim-impostor', node 'n1', choice 'b': 'next' names no node: "
        "'n-two'",
        f"{QUIZ}:79: question 'sim-impostor', node 'n2': never reached from the start node 'n1'",
        f"{QUIZ}:85: question 'sim-impostor', node 'n3': never reached from the start node 'n1'",
        f"{QUIZ}:90: question 'sim-impostor', node 'n4': never reached from the start node 'n1'",
        f"{QUIZ}:98: question 'sim-impostor', node 'end-good': never reached from the start "
        "node 'n1'",
    ]


def test_choice_fields_are_closed_and_scored_0_to_3(tmp_path):
    assert problems_after(tmp_path, QUIZ, "score: 1, next: end-breach}",
                          "score: -1, nxt: end-breach}") == [
        f"{QUIZ}:89: question 'sim-impostor', node 'n3', choice 'b': unknown field 'nxt' "
        "(did you mean 'next'?)",
        f"{QUIZ}:89: question 'sim-impostor', node 'n3', choice 'b': 'score' must be an integer "
        "from 0 to 3, got -1",
        f"{QUIZ}:89: question 'sim-impostor', node 'n3', choice 'b': missing required field "
        "'next'",
    ]


def test_a_draw_rule_asking_for_more_than_the_bank_holds(tmp_path):
    assert problems_after(tmp_path, QUIZ, "{phase: before, count: 2}",
                          "{phase: before, count: 3}") == [
        f"{QUIZ}:10: draw rule 2: asks for 3 'before' items but the bank has only 2"]


def test_earlier_rules_may_take_what_a_later_rule_needs(tmp_path):
    # Rule 1 may now draw a single_choice or multiple_response item, leaving
    # rule 3 one short in the worst case.
    assert problems_after(tmp_path, QUIZ, "{phase: during, count: 1, types: [call_simulation]}",
                          "{phase: during, count: 1}") == [
        f"{QUIZ}:11: draw rule 3: asks for 2 'during' items of type single_choice, "
        "multiple_response but the bank has 2 and earlier rules may take 1 of them"]


def test_disjoint_rules_do_not_compete(tmp_path):
    assert problems_after(tmp_path, QUIZ, "{phase: during, count: 1, types: [call_simulation]}",
                          "{phase: during, count: 1, types: [call_simulation, true_false]}") == []


# -- the command ------------------------------------------------------------------

def test_command_summarises_valid_content(capsys):
    assert main([str(VALID)]) == 0
    # The item-writing warnings (tests/content/test_item_lint.py) come first.
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Content OK: 1 course, 2 lessons, 4 questions (2 before, 2 during, 0 after), "
        "1 simulation, 1 job aid, 1 programme")


def test_command_lists_problems_and_fails(capsys):
    assert main([str(BROKEN)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if ": warning: " not in line]
    count = sum(len(file_problems) for file_problems in BROKEN_EXPECTED.values())
    assert lines[-1].startswith(f"{count} problems, ")
    assert lines[0] == ("courses/_job-aids/Bad_Name.md: job aid file name 'Bad_Name' is not "
                        "a slug: use lowercase letters, digits and hyphens")
    assert len(lines) == count + 1


def _jpeg(**save_options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "JPEG", **save_options)
    return out.getvalue()


def _png_with(chunk: bytes = b"", after: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (30, 30, 200)).save(out, "PNG")
    data = out.getvalue()
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk + data[iend:] + after


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_images_carrying_metadata_or_trailing_bytes_are_refused(tmp_path):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (38.0, 43.0, 0.0)}  # GPSInfo: latitude
    cases = {
        "gps.jpg": (_jpeg(exif=exif.tobytes()), "EXIF or XMP metadata"),
        "comment.jpg": (_jpeg(comment=b"taken at home"), "a comment"),
        "html.png": (_png_with(after=b"<html><script>alert(1)</script>"), "bytes after the image's end"),
        "text.png": (_png_with(_chunk(b"tEXt", b"Author\x00Jane Doe")), "a tEXt chunk"),
    }
    for name, (data, said) in cases.items():
        root = copy_valid(tmp_path / name)
        (root / COURSE / "img" / name).write_bytes(data)
        edit(root, LESSON_2, "(img/headset.png)", f"(img/{name})")
        (problem,) = problems(root)
        assert f"image 'img/{name}' has " in problem and said in problem, problem
