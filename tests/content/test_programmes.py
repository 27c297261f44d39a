"""Certification programmes (programmes/<slug>.yaml): parsing, hashes and every validation rule."""

import shutil
from pathlib import Path

import pytest

from tests.content.tree import FIXTURES, VALID, copy_valid, edit, problems

from lms.content import Programme, Requirement, check_tree, parse_tree

BROKEN_PROGRAMMES = FIXTURES / "programmes-broken"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = "programmes/recorded-lines.yaml"


def problems_after(tmp_path: Path, old: str, new: str) -> list[str]:
    """The problems of the valid tree after one edit of its programme."""
    root = copy_valid(tmp_path)
    edit(root, PROGRAMME, old, new)
    return problems(root)


def programme(root: Path) -> Programme:
    return parse_tree(root)[0].programmes["recorded-lines"]


# -- parsing -------------------------------------------------------------------

def test_programme_fields_and_requirements():
    tree, parse_problems = parse_tree(VALID)
    assert parse_problems == []
    assert list(tree.programmes) == ["recorded-lines"]
    found = tree.programmes["recorded-lines"]
    assert (found.slug, found.path, found.title) == ("recorded-lines", PROGRAMME, "Recorded lines")
    assert found.description.startswith("Read every lesson of the recording course")
    assert (found.validity_months, found.recertification_window_days, found.grace_days) == \
        (12, 60, 14)
    assert found.requirements == (
        Requirement(kind="course", slug="recording-calls"),
        Requirement(kind="quiz", slug="recording-calls", min_score=80),
    )
    assert found.source.line_of("requirements") == 6
    assert found.source["requirements"].line_of(1) == 8


def test_grace_days_default_to_zero(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, PROGRAMME, "grace_days: 14\n", "")
    assert problems(root) == []
    assert programme(root).grace_days == 0


def test_a_tree_without_programmes_is_fine(tmp_path):
    root = copy_valid(tmp_path)
    shutil.rmtree(root / "programmes")
    tree, parse_problems = parse_tree(root)
    assert parse_problems == [] and tree.programmes == {}
    assert problems(root) == []


# -- hashes ----------------------------------------------------------------------

def test_hash_is_sha256_hex_stable_and_ignores_layout(tmp_path):
    before = programme(VALID).content_hash
    assert len(before) == 64 and int(before, 16) >= 0
    assert before != parse_tree(VALID)[0].quizzes["recording-calls"].content_hash
    root = copy_valid(tmp_path)
    assert programme(root).content_hash == before
    edit(root, PROGRAMME, "  - quiz: recording-calls\n    min_score: 80\n",
         "  - {min_score: 80, quiz: recording-calls}  # flow style, keys in another order\n")
    assert programme(root).content_hash == before


@pytest.mark.parametrize(("rel", "old", "new", "changes"), [
    (PROGRAMME, "min_score: 80", "min_score: 85", True),
    (PROGRAMME, "grace_days: 14", "grace_days: 15", True),
    (PROGRAMME, "Recorded lines", "Recorded phone lines", True),
    ("courses/recording-calls/course.yaml", "estimated_minutes: 12", "estimated_minutes: 13",
     False),
    ("quizzes/recording-calls.yaml", "pass_mark: 80", "pass_mark: 70", False),
])
def test_only_a_change_to_the_programme_file_changes_its_hash(tmp_path, rel, old, new, changes):
    before = programme(VALID).content_hash
    root = copy_valid(tmp_path)
    edit(root, rel, old, new)
    assert (programme(root).content_hash != before) == changes


# -- validation: a tree of broken programme files ----------------------------------------

# Every problem of the files in fixtures/programmes-broken/, when they are the
# programmes of the valid tree: "line: message" ("" for the file as a whole).
BROKEN_EXPECTED = {
    "programmes/Bad_Name.yaml": [
        ": programme file name 'Bad_Name' is not a slug: use lowercase letters, digits "
        "and hyphens",
    ],
    "programmes/a-list.yaml": [
        "1: a programme file must be a mapping of fields (name: value), found a list",
    ],
    "programmes/bad-requirements.yaml": [
        "7: requirement 2: course 'recording-calls' is required twice (first on line 6)",
        "8: requirement 3: missing required field 'min_score' "
        "(the percentage the quiz must be passed with)",
        "9: requirement 4: 'min_score' must be an integer from 1 to 100, got 0",
        "9: requirement 4: quiz 'recording-calls' is required twice (first on line 8)",
        "10: requirement 5: course 'no-such-course' not found: "
        "courses/no-such-course/course.yaml is missing or could not be read",
        "11: requirement 6: quiz 'no-such-quiz' not found: quizzes/no-such-quiz.yaml "
        "is missing or could not be read",
        "12: requirement 7: names both a course and a quiz; give each its own requirement",
        "13: requirement 8: must name a course ('course: <slug>') or a quiz ('quiz: <slug>')",
        "14: requirement 9: 'quiz' must be a slug: lowercase letters, digits and hyphens, "
        "got 'Bad_Slug'",
        "14: requirement 9: 'min_score' must be an integer from 1 to 100, got 101",
        "15: requirement 10: unknown field 'weight' (allowed: course, quiz, min_score)",
        "15: requirement 10: quiz 'other-quiz' not found: quizzes/other-quiz.yaml "
        "is missing or could not be read",
        "16: requirement 11: must be a mapping such as 'course: <slug>' or "
        "'{quiz: <slug>, min_score: 80}', got 'recording-calls'",
        "17: requirement 12: course 'recording-calls' is required twice (first on line 6)",
        "18: requirement 12: 'min_score' is only for quizzes: a course requirement means "
        "every lesson of the course read",
    ],
    "programmes/bad-settings.yaml": [
        "1: 'title' must not be empty",
        "1: missing required field 'description'",
        "2: unknown field 'descripton' (did you mean 'description'?)",
        "3: 'validity_months' must be an integer from 1 to 60, got 61",
        "4: 'recertification_window_days' must be an integer from 0 to 365, got 400",
        "5: 'grace_days' must be an integer from 0 to 90, got 91",
        "6: 'requirements' must not be empty",
    ],
    "programmes/bad-window.yaml": [
        "4: 'recertification_window_days' must be less than 56 "
        "(28 days for each of the 2 validity months), got 56",
        "5: 'grace_days' must be an integer from 0 to 90, got true",
        "6: 'requirements' must be a list, got 'recording-calls'",
    ],
    "programmes/bad-yaml.yaml": [
        "1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ],
}


@pytest.fixture
def broken_root(tmp_path: Path) -> Path:
    """The valid tree with the broken programme files in place of its own."""
    root = copy_valid(tmp_path)
    shutil.rmtree(root / "programmes")
    shutil.copytree(BROKEN_PROGRAMMES, root / "programmes")
    return root


def test_broken_programmes_report_every_problem_with_its_line(broken_root):
    expected = [f"{path}:{problem}" if problem[0].isdigit() else f"{path}{problem}"
                for path, file_problems in BROKEN_EXPECTED.items() for problem in file_problems]
    assert problems(broken_root) == expected


def test_broken_requirements_keep_what_they_can(broken_root):
    tree, _ = parse_tree(broken_root)
    assert set(tree.programmes) == {"Bad_Name", "bad-requirements", "bad-settings", "bad-window"}
    assert tree.programmes["bad-window"].requirements == ()
    assert tree.programmes["bad-settings"].description == ""
    kept = tree.programmes["bad-requirements"].requirements
    assert [(r.kind, r.slug, r.min_score) for r in kept] == [
        ("course", "recording-calls", None), ("course", "recording-calls", None),
        ("quiz", "recording-calls", None), ("quiz", "recording-calls", 0),
        ("course", "no-such-course", None), ("quiz", "no-such-quiz", 80),
        ("quiz", "Bad_Slug", 101), ("quiz", "other-quiz", 80),
        ("course", "recording-calls", None),
    ]


# -- validation: targeted edits of the valid programme ----------------------------------

@pytest.mark.parametrize(("months", "window", "ok"), [
    (1, 27, True), (1, 28, False), (12, 335, True), (12, 336, False), (60, 365, True),
])
def test_the_window_must_be_shorter_than_28_days_a_month(tmp_path, months, window, ok):
    found = problems_after(tmp_path, "validity_months: 12\nrecertification_window_days: 60",
                           f"validity_months: {months}\nrecertification_window_days: {window}")
    assert found == ([] if ok else [
        f"{PROGRAMME}:4: 'recertification_window_days' must be less than {months * 28} "
        f"(28 days for each of the {months} validity months), got {window}"])


def test_a_window_of_zero_days_is_allowed(tmp_path):
    assert problems_after(tmp_path, "recertification_window_days: 60",
                          "recertification_window_days: 0") == []


def test_out_of_range_values_are_not_compared_again(tmp_path):
    assert problems_after(tmp_path, "validity_months: 12", "validity_months: 0") == [
        f"{PROGRAMME}:3: 'validity_months' must be an integer from 1 to 60, got 0"]


def test_a_block_quiz_requirement_without_min_score_points_at_its_first_line(tmp_path):
    assert problems_after(tmp_path, "    min_score: 80\n", "") == [
        f"{PROGRAMME}:8: requirement 2: missing required field 'min_score' "
        "(the percentage the quiz must be passed with)"]


def test_min_score_on_a_course_is_an_error(tmp_path):
    assert problems_after(tmp_path, "  - course: recording-calls\n",
                          "  - course: recording-calls\n    min_score: 80\n") == [
        f"{PROGRAMME}:8: requirement 1: 'min_score' is only for quizzes: a course requirement "
        "means every lesson of the course read"]


def test_a_requirement_on_a_course_that_is_gone(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, PROGRAMME, "  - course: recording-calls\n", "  - course: recording\n")
    assert problems(root) == [
        f"{PROGRAMME}:7: requirement 1: course 'recording' not found: "
        "courses/recording/course.yaml is missing or could not be read"]


def test_a_quiz_that_cannot_be_read_is_not_found(tmp_path):
    root = copy_valid(tmp_path)
    (root / "quizzes/recording-calls.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    assert problems(root) == [
        "courses/recording-calls/course.yaml:9: quiz 'recording-calls' not found: "
        "quizzes/recording-calls.yaml is missing or could not be read",
        f"{PROGRAMME}:8: requirement 2: quiz 'recording-calls' not found: "
        "quizzes/recording-calls.yaml is missing or could not be read",
        "quizzes/recording-calls.yaml:1: invalid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence)",
    ]


def test_the_same_slug_as_course_and_quiz_is_no_duplicate(tmp_path):
    # The fixture requires course recording-calls and quiz recording-calls.
    assert problems(copy_valid(tmp_path)) == []


def test_yaml_numbers_as_slugs_get_a_hint(tmp_path):
    assert problems_after(tmp_path, "  - course: recording-calls\n", "  - course: 2024\n") == [
        f"{PROGRAMME}:7: requirement 1: 'course' must be a slug: lowercase letters, digits "
        "and hyphens, got 2024 (YAML reads it as a number: put the id in quotes)"]


def test_duplicate_keys_in_a_programme(tmp_path):
    assert problems_after(tmp_path, "grace_days: 14\n", "grace_days: 14\ngrace_days: 7\n") == [
        f"{PROGRAMME}:6: duplicate key 'grace_days' (first given on line 5)"]


# -- the real programmes ---------------------------------------------------------------

def test_the_real_programmes():
    assert [str(p) for p in check_tree(PROJECT_ROOT) if p.path.startswith("programmes/")] == []
    programmes = parse_tree(PROJECT_ROOT)[0].programmes
    summary = {
        slug: (p.validity_months, p.recertification_window_days, p.grace_days,
               [(r.kind, r.slug, r.min_score) for r in p.requirements])
        for slug, p in programmes.items()
    }
    assert summary == {
        "agent-certification": (12, 60, 14, [
            ("course", "gdpr-essentials", None), ("course", "handling-requests", None),
            ("course", "call-security", None), ("quiz", "gdpr-essentials", 80),
            ("quiz", "handling-requests", 80), ("quiz", "call-security", 80),
        ]),
        "partner-onboarding": (24, 90, 30, [
            ("course", "outsourcing-transfers", None), ("quiz", "outsourcing-transfers", 80),
            ("quiz", "gdpr-essentials", 80),
        ]),
        "recording-and-payments": (12, 60, 0, [
            ("course", "recording-calls", None), ("quiz", "recording-calls", 80),
        ]),
    }
    assert programmes["agent-certification"].title == \
        "GDPR certification for contact-centre agents"
    assert programmes["recording-and-payments"].title == "Recorded lines and card payments"
    assert programmes["partner-onboarding"].title == "Outsourcing partner onboarding"


def test_the_documented_example_is_valid(tmp_path):
    docs = (PROJECT_ROOT / "docs/content-format.md").read_text(encoding="utf-8")
    section = docs.split("## `programmes/<slug>.yaml`", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "courses", root / "courses")
    shutil.copytree(PROJECT_ROOT / "quizzes", root / "quizzes")
    (root / "programmes").mkdir()
    (root / "programmes/example.yaml").write_text(example, encoding="utf-8")
    assert [str(p) for p in check_tree(root) if p.path.startswith("programmes/")] == []
    assert len(parse_tree(root)[0].programmes["example"].requirements) == 6
