"""Parsing content files into the model: fields, line numbers, hashes, file-level errors."""

import shutil
from pathlib import Path

import pytest

from lms.content import ContentTree, Problem, parse_tree
from lms.checked_yaml.yaml_lines import LineDict, LineList, load
from lms.content.model import DrawRule
from lms.question_types.call_simulation import SimulationChoice, SimulationQuestion
from lms.question_types.choices import ChoiceQuestion, Option
from lms.question_types.true_false import TrueFalseQuestion

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"
COURSE = "courses/recording-calls"


def copy_valid(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture tree."""
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a file (fails if there is not exactly one)."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def parse(root: Path) -> tuple[ContentTree, list[str]]:
    tree, problems = parse_tree(root)
    return tree, [str(problem) for problem in problems]


# -- the valid tree -----------------------------------------------------------

def test_valid_tree_parses_without_problems():
    tree, problems = parse(VALID)
    assert problems == []
    assert list(tree.courses) == ["recording-calls"]
    assert list(tree.quizzes) == ["recording-calls"]
    assert list(tree.job_aids) == ["caller-asks-for-data"]


def test_course_fields_and_lessons_in_listed_order():
    course = parse_tree(VALID)[0].courses["recording-calls"]
    assert course.path == f"{COURSE}/course.yaml"
    assert course.title == "Recording calls lawfully"
    assert course.estimated_minutes == 12
    assert course.phases == ("before", "during")
    assert course.quiz == "recording-calls"
    assert len(course.key_points) == 2
    assert [lesson.id for lesson in course.lessons] == ["choosing-the-basis", "telling-callers"]
    assert [lesson.file for lesson in course.lessons] == [
        "01-choosing-the-basis.md", "02-telling-callers.md"]


def test_lesson_front_matter_and_body_keep_file_line_numbers():
    lesson = parse_tree(VALID)[0].courses["recording-calls"].lessons[1]
    assert lesson.path == f"{COURSE}/02-telling-callers.md"
    assert (lesson.title, lesson.phase, lesson.minutes) == (
        "Telling callers about recording", "during", 6)
    assert lesson.references == ("Art. 13(1)", "Art. 13(2)", "EDPB Guidelines on transparency")
    # The opening '---' is line 1, so `id` is line 2 and `phase` line 4 of the file.
    assert lesson.source.line_of("id") == 2
    assert lesson.source.line_of("phase") == 4
    assert lesson.source["key_points"].item_lines == [8, 9]
    # The closing '---' is line 10; the body starts on line 11 with the first heading.
    assert lesson.body_line == 11
    assert lesson.body.startswith("## Say it first (Art. 13(1))\n")


def test_referenced_images_are_read_with_the_course():
    course = parse_tree(VALID)[0].courses["recording-calls"]
    png = (VALID / COURSE / "img/headset.png").read_bytes()
    assert course.images == {"img/headset.png": png}
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_job_aid_fields():
    aid = parse_tree(VALID)[0].job_aids["caller-asks-for-data"]
    assert aid.path == "courses/_job-aids/caller-asks-for-data.md"
    assert aid.title == "A caller asks for their data"
    assert aid.phase == "during"
    assert aid.tags == ("SAR", "subject access", "copy of my data")
    assert aid.references == ("Art. 15", "Art. 12(3)")
    assert aid.body_line == 7
    assert aid.body.startswith("1. Log the request today")


def test_quiz_settings_and_draw_rules():
    quiz = parse_tree(VALID)[0].quizzes["recording-calls"]
    assert quiz.path == "quizzes/recording-calls.yaml"
    assert (quiz.pass_mark, quiz.time_limit_minutes) == (80, 20)
    assert (quiz.max_attempts, quiz.cooldown_minutes) == (3, 60)
    assert quiz.review == "after_pass"
    assert quiz.multiple_response_scoring == "partial"
    assert quiz.draw == (
        DrawRule(phase="during", count=1, types=("call_simulation",)),
        DrawRule(phase="before", count=2),
        DrawRule(phase="during", count=2, types=("single_choice", "multiple_response")),
    )


def test_draw_rules_match_by_phase_and_type():
    quiz = parse_tree(VALID)[0].quizzes["recording-calls"]
    drawable = [[q.id for q in quiz.questions if rule.matches(q)] for rule in quiz.draw]
    assert drawable == [["sim-impostor"], ["basis-first", "order-of-steps"],
                        ["verbal-sar", "what-to-say"]]


def test_quiz_items_are_typed():
    questions = {q.id: q for q in parse_tree(VALID)[0].quizzes["recording-calls"].questions}
    single = questions["verbal-sar"]
    assert isinstance(single, ChoiceQuestion)
    assert single.type == "single_choice"
    assert single.correct == ("b",)
    assert single.points == 1          # the default when the file gives none
    assert single.options[1] == Option(id="b", text="Log it as an access request today.",
                                       feedback="Right. The month starts now.")
    assert single.prompt.startswith('"I want to know everything')
    multiple = questions["what-to-say"]
    assert (multiple.type, multiple.correct, multiple.points) == (
        "multiple_response", ("a", "b"), 2)
    ordering = questions["order-of-steps"]
    assert ordering.correct == ("assess", "record", "tell")
    true_false = questions["basis-first"]
    assert isinstance(true_false, TrueFalseQuestion)
    assert true_false.correct is True
    assert true_false.feedback_false == "The basis is fixed before processing begins."


def test_call_simulation_nodes_and_choices():
    sim = parse_tree(VALID)[0].quizzes["recording-calls"].questions[-1]
    assert isinstance(sim, SimulationQuestion)
    assert (sim.start, sim.points) == ("n1", 3)
    assert [node.id for node in sim.nodes] == ["n1", "n2", "n3", "n4", "end-breach", "end-good"]
    assert [node.end for node in sim.nodes] == [False] * 4 + [True] * 2
    assert sim.node("n2").choices[2] == SimulationChoice(
        id="c", text="Please ask her to call.", feedback="Acceptable.", score=2, next="end-good")
    with pytest.raises(KeyError):
        sim.node("n9")


def test_quiz_defaults_when_optional_fields_are_absent(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, "quizzes/recording-calls.yaml", "multiple_response_scoring: partial\n", "")
    edit(root, "quizzes/recording-calls.yaml", "{max: 3, cooldown_minutes: 60}",
         "{max: null, cooldown_minutes: 0}")
    edit(root, "quizzes/recording-calls.yaml", "time_limit_minutes: 20", "time_limit_minutes: null")
    quiz = parse_tree(root)[0].quizzes["recording-calls"]
    assert quiz.multiple_response_scoring == "all_or_nothing"
    assert (quiz.max_attempts, quiz.cooldown_minutes, quiz.time_limit_minutes) == (None, 0, None)


# -- content hashes -------------------------------------------------------------

def hashes(root: Path) -> tuple[str, str]:
    tree = parse_tree(root)[0]
    course, quiz = tree.courses["recording-calls"], tree.quizzes["recording-calls"]
    return course.content_hash, quiz.content_hash


def test_hash_is_sha256_hex_and_stable_across_copies(tmp_path):
    course_hash, quiz_hash = hashes(VALID)
    assert len(course_hash) == 64 and int(course_hash, 16) >= 0
    assert course_hash != quiz_hash
    assert hashes(copy_valid(tmp_path)) == (course_hash, quiz_hash)


def test_hash_ignores_layout_that_does_not_change_the_data(tmp_path):
    before = hashes(VALID)
    root = copy_valid(tmp_path)
    course_yaml = root / COURSE / "course.yaml"
    # Same data: keys in another order, a comment, flow style, CRLF line endings.
    text = course_yaml.read_text(encoding="utf-8")
    title, rest = text.split("\n", 1)
    course_yaml.write_bytes(("# a comment\n" + rest + title + "\n").replace("\n", "\r\n").encode())
    edit(root, "quizzes/recording-calls.yaml", "correct: [a, b]", "correct:\n      - a\n      - b")
    assert hashes(root) == before


@pytest.mark.parametrize(("rel", "old", "new", "changes"), [
    ("courses/recording-calls/course.yaml", "estimated_minutes: 12", "estimated_minutes: 13",
     "course"),
    ("courses/recording-calls/02-telling-callers.md", "recorded and why.", "recorded, and why.",
     "course"),
    ("courses/recording-calls/01-choosing-the-basis.md", "minutes: 6", "minutes: 7", "course"),
    ("quizzes/recording-calls.yaml", "score: 2, next: end-good", "score: 1, next: end-good",
     "quiz"),
])
def test_any_change_gives_a_new_hash(tmp_path, rel, old, new, changes):
    course_before, quiz_before = hashes(VALID)
    root = copy_valid(tmp_path)
    edit(root, rel, old, new)
    course_after, quiz_after = hashes(root)
    assert (course_after != course_before) == (changes == "course")
    assert (quiz_after != quiz_before) == (changes == "quiz")


def test_changing_image_bytes_changes_the_course_hash(tmp_path):
    course_before, _ = hashes(VALID)
    root = copy_valid(tmp_path)
    image = root / COURSE / "img/headset.png"
    image.write_bytes(image.read_bytes() + b"\x00")
    assert hashes(root)[0] != course_before


# -- problems that stop a file being read ---------------------------------------

def test_problem_str_names_path_and_line():
    assert str(Problem("quizzes/a.yaml", 42, "bad")) == "quizzes/a.yaml:42: bad"
    assert str(Problem("courses/x/course.yaml", 0, "missing")) == "courses/x/course.yaml: missing"


def test_invalid_yaml_names_the_line_and_where_the_broken_mapping_starts(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, "quizzes/recording-calls.yaml", "  - {phase: before, count: 2}",
         "  - {phase: before, count: 2")
    tree, problems = parse(root)
    assert problems == [
        "quizzes/recording-calls.yaml:11: invalid YAML: expected ',' or '}', but got '{' "
        "(while parsing a flow mapping that starts on line 10)"]
    assert "recording-calls" not in tree.quizzes


def test_duplicate_keys_are_reported_and_the_file_still_parses(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, "quizzes/recording-calls.yaml", "    correct: b\n",
         "    correct: b\n    correct: a\n")
    edit(root, f"{COURSE}/01-choosing-the-basis.md", "minutes: 6\n", "minutes: 6\ntitle: Again\n")
    tree, problems = parse(root)
    assert problems == [
        f"{COURSE}/01-choosing-the-basis.md:6: duplicate key 'title' (first given on line 3)",
        "quizzes/recording-calls.yaml:27: duplicate key 'correct' (first given on line 26)",
    ]
    assert tree.quizzes["recording-calls"].questions[0].correct == ("b",)


def test_yaml_aliases_are_refused(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, "quizzes/recording-calls.yaml", 'references: ["Art. 15", "Art. 12(3)"]',
         'references: &refs ["Art. 15", "Art. 12(3)"]\n    other: *refs')
    assert parse(root)[1] == [
        "quizzes/recording-calls.yaml:30: invalid YAML: "
        "YAML aliases (*name) are not allowed in content files"]


@pytest.mark.parametrize(("text", "expected"), [
    ("## No front matter (Art. 5)\n",
     "1: must start with YAML front matter: a '---' line, the fields, then '---'"),
    ("---\nid: x\n## Never closed (Art. 5)\n",
     "1: front matter opened on line 1 is never closed with a '---' line"),
    ("---\n- a\n- list\n---\n## Body (Art. 5)\n",
     "2: the front matter must be a mapping of fields (name: value), found a list"),
    ("---\n---\n## Body (Art. 5)\n",
     "the front matter must be a mapping of fields (name: value), found nothing"),
])
def test_front_matter_problems(tmp_path, text, expected):
    root = copy_valid(tmp_path)
    (root / COURSE / "01-choosing-the-basis.md").write_text(text, encoding="utf-8")
    tree, problems = parse(root)
    separator = ":" if expected[0].isdigit() else ": "
    assert problems == [f"{COURSE}/01-choosing-the-basis.md{separator}{expected}"]
    assert [lesson.id for lesson in tree.courses["recording-calls"].lessons] == ["telling-callers"]


def test_missing_files_and_folders(tmp_path):
    root = copy_valid(tmp_path)
    (root / "courses/no-yaml").mkdir()
    edit(root, f"{COURSE}/course.yaml", "  - 02-telling-callers.md\n",
         "  - 02-telling-callers.md\n  - 03-not-written.md\n")
    (root / "quizzes/list.yaml").write_text("- one\n- two\n", encoding="utf-8")
    (root / "quizzes/binary.yaml").write_bytes(b"title: \xff\xfe\n")
    assert parse(root)[1] == [
        "courses/no-yaml/course.yaml: missing: every course folder needs a course.yaml",
        f"{COURSE}/course.yaml:9: lesson file '03-not-written.md' is listed but "
        f"{COURSE}/03-not-written.md does not exist",
        "quizzes/binary.yaml: not UTF-8 text (invalid start byte at byte 7)",
        "quizzes/list.yaml:1: a quiz file must be a mapping of fields (name: value), found a list",
    ]


def test_a_root_without_courses_is_reported(tmp_path):
    tree, problems = parse(tmp_path)
    assert problems == [f"courses: folder not found in {tmp_path}"]
    assert tree == ContentTree()


# -- the line-keeping loader ------------------------------------------------------

def test_loader_keeps_lines_of_mappings_keys_and_items():
    data, duplicates = load("title: T\nitems:\n  - a\n  -\n    id: b\n    n: 1\nflow: {x: 1}\n")
    assert duplicates == []
    assert isinstance(data, LineDict) and isinstance(data["items"], LineList)
    assert data == {"title": "T", "items": ["a", {"id": "b", "n": 1}], "flow": {"x": 1}}
    assert (data.line, data.line_of("items"), data.line_of("flow")) == (1, 2, 7)
    assert data["items"].item_lines == [3, 5]
    assert data["items"][1].line_of("n") == 6
    assert data.line_of("absent") == 1
