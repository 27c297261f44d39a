"""The quiz editor: quiz files as editable data and back, and the editor's pages."""
from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from lms.authoring.quiz_yaml import content_hash, dump_quiz, load_quiz, update_quiz_text
from lms.content import parse_tree

ROOT = Path(__file__).resolve().parents[2]
REPO_QUIZZES = sorted((ROOT / "quizzes").glob("*.yaml"))


def _parsed_hash(tmp_path: Path, slug: str, text: str) -> str:
    """The content hash `content load` gives a quiz file with this text."""
    root = tmp_path / slug
    (root / "courses").mkdir(parents=True)
    (root / "quizzes").mkdir()
    (root / "quizzes" / f"{slug}.yaml").write_text(text, encoding="utf-8")
    tree, problems = parse_tree(root)
    assert problems == []
    return tree.quizzes[slug].content_hash


# -- the file format, both ways ---------------------------------------------------------------

@pytest.mark.parametrize("path", REPO_QUIZZES, ids=lambda p: p.stem)
def test_every_repository_quiz_round_trips_to_the_same_content_hash(tmp_path, path):
    text = path.read_text(encoding="utf-8")
    original = _parsed_hash(tmp_path, path.stem, text)
    data = load_quiz(text)
    assert content_hash(data) == original
    written = dump_quiz(data)
    assert _parsed_hash(tmp_path / "dumped", path.stem, written) == original
    # Writing what was read, unchanged, keeps the file as it is, comments and all.
    assert update_quiz_text(text, data) == text
    # And the documented layout is stable: writing it again changes nothing.
    assert dump_quiz(load_quiz(written)) == written


def test_layout_follows_the_documented_order_and_styles():
    data = {
        "questions": [{"references": ["Art. 15"], "explanation": "Line one (Art. 15).\nLine two.\n",
                       "correct": True, "prompt": "Ça va? Ünïcödé “quotes”", "difficulty": "easy",
                       "phase": "during", "type": "true_false", "id": "tf",
                       "feedback_false": "No.", "feedback_true": "Yes."}],
        "draw": [{"count": 1, "phase": "during"}], "review": "never",
        "attempts": {"cooldown_minutes": 0, "max": None}, "time_limit_minutes": None,
        "pass_mark": 80, "title": "Über quiz",
    }
    text = dump_quiz(data)
    assert text == (
        "title: Über quiz\n"
        "pass_mark: 80\n"
        "time_limit_minutes: null\n"
        "attempts: {max: null, cooldown_minutes: 0}\n"
        "review: never\n"
        "draw:\n"
        "  - {phase: during, count: 1}\n"
        "questions:\n"
        "\n"
        "  - id: tf\n"
        "    type: true_false\n"
        "    phase: during\n"
        "    difficulty: easy\n"
        "    prompt: Ça va? Ünïcödé “quotes”\n"
        "    correct: true\n"
        "    feedback_true: Yes.\n"
        "    feedback_false: No.\n"
        "    explanation: |\n"
        "      Line one (Art. 15).\n"
        "      Line two.\n"
        '    references: ["Art. 15"]\n'
    )
    assert load_quiz(text) == data


@pytest.mark.parametrize("value", [
    "plain", "ends with newline\n", "two\n\nblank lines kept\n\n\n", "  leading spaces\nmore",
    "trailing space \nline", "tab\there", "quote ' and \" and : colon # hash", "yes", "123", "null",
    "- dash", "x" * 300, "control \x07 char", "", "Art. 5(1)(f) " * 20 + "\n",
])
def test_any_text_reads_back_exactly(value):
    data = {"title": value, "questions": [{"id": "q", "prompt": value, "options": [{"text": value}]}]}
    assert load_quiz(dump_quiz(data)) == data


def test_editing_one_question_changes_only_that_question():
    text = (ROOT / "quizzes" / "call-security.yaml").read_text(encoding="utf-8")
    data = load_quiz(text)
    data["questions"][3]["prompt"] = "A new prompt that the trainer wrote."
    new_text = update_quiz_text(text, data)
    old_lines, new_lines = text.split("\n"), new_text.split("\n")
    first = old_lines.index("  - id: sec-before-04")
    after = old_lines.index("  - id: sec-before-05")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    edits = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    assert edits and all(first <= i1 and i2 <= after for _, i1, i2, _, _ in edits)
    assert "    prompt: A new prompt that the trainer wrote." in new_lines
    assert load_quiz(new_text) == data
    # The questions around it keep their text, comments included.
    assert new_lines[:first] == old_lines[:first]
    assert new_lines[-(len(old_lines) - after):] == old_lines[after:]


def test_settings_edit_keeps_the_questions_as_written():
    text = (ROOT / "quizzes" / "gdpr-essentials.yaml").read_text(encoding="utf-8")
    data = load_quiz(text)
    data["pass_mark"] = 70
    new_text = update_quiz_text(text, data)
    assert new_text.split("questions:\n", 1)[1] == text.split("questions:\n", 1)[1]
    assert "pass_mark: 70\n" in new_text and load_quiz(new_text) == data


def test_moving_and_deleting_questions_keeps_their_text():
    text = (ROOT / "quizzes" / "recording-calls.yaml").read_text(encoding="utf-8")
    data = load_quiz(text)
    first, second = data["questions"][0], data["questions"][1]
    data["questions"][0], data["questions"][1] = second, first
    del data["questions"][-1]
    new_text = update_quiz_text(text, data)
    assert load_quiz(new_text) == data
    assert len(new_text) < len(text)
    assert new_text.index(f"- id: {second['id']}") < new_text.index(f"- id: {first['id']}")


def test_a_copy_of_a_repository_file_loads_through_the_content_loader(tmp_path):
    source = ROOT / "quizzes" / "handling-requests.yaml"
    root = tmp_path / "content"
    (root / "courses").mkdir(parents=True)
    (root / "quizzes").mkdir()
    shutil.copy(source, root / "quizzes" / source.name)
    data = load_quiz(source.read_text(encoding="utf-8"))
    data["questions"][0]["difficulty"] = "hard"
    (root / "quizzes" / source.name).write_text(
        update_quiz_text(source.read_text(encoding="utf-8"), data), encoding="utf-8")
    tree, problems = parse_tree(root)
    assert problems == [] and tree.quizzes["handling-requests"].questions[0].difficulty == "hard"
