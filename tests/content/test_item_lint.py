"""Item-writing warnings (lms/content/item_lint.py, lms/question_types/lint.py): each rule fires on a flawed item and stays
quiet on a clean one; `content check --strict` fails on them; the shipped quizzes pass it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lms.content.__main__ import main
from lms.content.validate import check_content
from tests.content.tree import FIXTURES, edit

CLEAN = FIXTURES / "item-lint" / "clean.yaml"
QUIZ = "quizzes/item-lint.yaml"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _tree(tmp_path: Path) -> Path:
    """A content root holding only the clean quiz."""
    root = tmp_path / "content"
    (root / "courses").mkdir(parents=True)
    (root / "quizzes").mkdir()
    shutil.copy(CLEAN, root / QUIZ)
    return root


def _warnings(root: Path) -> list[str]:
    problems, warnings = check_content(root)
    assert problems == [], [str(p) for p in problems]
    return [str(warning) for warning in warnings]


def test_the_clean_quiz_has_no_warnings(tmp_path):
    assert _warnings(_tree(tmp_path)) == []


def test_a_key_more_than_a_fifth_longer_than_any_other_option_is_flagged(tmp_path):
    root = _tree(tmp_path)
    # The key has 47 characters against 49; at 72 it is 47% longer than the next.
    edit(root, QUIZ, "text: Log it as an access request and route it today.",
         "text: Log it as an access request today, route it to the privacy team at once.")
    assert _warnings(root) == [
        f"{QUIZ}:20: warning: question 'verbal-sar': the key 'log-it' is 72 characters, more than "
        "20% longer than any other option (49): length gives it away; shorten it or give the "
        "other options the same care"]


def test_a_key_at_most_a_fifth_longer_passes(tmp_path):
    root = _tree(tmp_path)
    # 56 characters against 49: 14% more.
    edit(root, QUIZ, "text: Log it as an access request and route it today.",
         "text: Log it as an access request and route it today, at once.")
    assert _warnings(root) == []


@pytest.mark.parametrize("text", ["All of the above.", "None of the above", "both of these"])
def test_all_or_none_of_the_above_is_flagged(tmp_path, text):
    root = _tree(tmp_path)
    edit(root, QUIZ, "text: Wait until the caller names the law they rely on.", f"text: {text}")
    [warning] = _warnings(root)
    assert warning.startswith(f"{QUIZ}:23: warning: question 'verbal-sar': option 'wait' says ")


def test_all_of_them_in_ordinary_prose_is_not_flagged(tmp_path):
    root = _tree(tmp_path)
    edit(root, QUIZ, "text: Wait until the caller names the law they rely on.",
         "text: Ask for the parents and read the data out to both of them.")
    assert _warnings(root) == []


def test_true_false_keys_more_than_70_percent_one_way_are_flagged(tmp_path):
    root = _tree(tmp_path)
    edit(root, QUIZ, "prompt: A caller who stays silent after the recording message has consented to it.\n"
                     "    correct: false",
         "prompt: A caller who stays silent after the recording message has not consented to it.\n"
         "    correct: true")
    assert _warnings(root) == [
        f"{QUIZ}:9: warning: 2 of the 2 true/false keys are true (questions 'basis-first', "
        "'consent-silence'); more than 70% one way lets a guess pass: rewrite some statements the "
        "other way"]


def test_option_feedback_that_gives_no_reason_is_flagged(tmp_path):
    root = _tree(tmp_path)
    edit(root, QUIZ, "feedback: It says nothing about the processing of the caller's data.",
         "feedback: Not relevant.")
    edit(root, QUIZ, "feedback_true: The basis cannot be picked after the processing began.",
         "feedback_true: Correct!")
    assert _warnings(root) == [
        f"{QUIZ}:36: warning: question 'what-to-say': option 'town' has feedback without a reason "
        "('Not relevant.'): say why it is right or wrong, or cite the article",
        f"{QUIZ}:46: warning: question 'basis-first': the answer True has feedback without a "
        "reason ('Correct!'): say why it is right or wrong, or cite the article"]


def test_a_short_feedback_that_cites_an_article_is_a_reason(tmp_path):
    root = _tree(tmp_path)
    edit(root, QUIZ, "feedback: It says nothing about the processing of the caller's data.",
         "feedback: Not in Art. 13.")
    assert _warnings(root) == []


def test_an_option_without_feedback_is_an_error(tmp_path):
    root = _tree(tmp_path)
    edit(root, QUIZ, "feedback: It says nothing about the processing of the caller's data.}", "}")
    problems, _ = check_content(root)
    assert [str(p) for p in problems] == [
        f"{QUIZ}:36: question 'what-to-say', option 'town': missing required field 'feedback'"]


def test_a_question_without_an_article_in_its_citations_is_an_error(tmp_path):
    root = _tree(tmp_path)
    edit(root, QUIZ, 'references: ["Art. 6(1)"]', 'references: ["Our call-centre handbook"]')
    problems, _ = check_content(root)
    assert [str(p) for p in problems] == [
        f"{QUIZ}:49: question 'basis-first': 'references' must include at least one article, "
        "e.g. 'Art. 12(3)'"]


def test_simulations_are_left_to_their_own_rules(tmp_path):
    root = _tree(tmp_path)
    shutil.copy(FIXTURES / "valid" / "quizzes" / "recording-calls.yaml", root / QUIZ)
    # The fixture's simulation replies say only "Right." and are not linted here.
    assert not any("sim-impostor" in warning for warning in _warnings(root))


# -- --strict -------------------------------------------------------------------------------

def _flawed(tmp_path: Path) -> Path:
    root = _tree(tmp_path)
    edit(root, QUIZ, "text: Wait until the caller names the law they rely on.", "text: None of the above.")
    return root


def test_cli_check_prints_warnings_but_passes_without_strict(runner, tmp_path):
    result = runner.invoke(args=["lms", "content", "check", str(_flawed(tmp_path))])
    assert result.exit_code == 0, result.output
    assert f"{QUIZ}:23: warning: question 'verbal-sar'" in result.output
    assert "with 1 warning(s)" in result.output


def test_cli_check_strict_fails_on_a_warning(runner, tmp_path):
    result = runner.invoke(args=["lms", "content", "check", "--strict", str(_flawed(tmp_path))])
    assert result.exit_code == 1
    assert f"{QUIZ}:23: warning: question 'verbal-sar'" in result.output
    assert "0 problem(s) and 1 warning(s) found (--strict counts warnings)." in result.output


def test_cli_check_strict_passes_clean_content(runner, tmp_path):
    result = runner.invoke(args=["lms", "content", "check", "--strict", str(_tree(tmp_path))])
    assert result.exit_code == 0, result.output


def test_module_check_strict_fails_on_a_warning(tmp_path, capsys):
    root = _flawed(tmp_path)
    assert main([str(root)]) == 0
    assert main(["--strict", str(root)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "0 problems, 1 warning"



def test_the_shipped_content_passes_strict(runner):
    result = runner.invoke(args=["lms", "content", "check", "--strict", str(PROJECT_ROOT)])
    assert result.exit_code == 0, result.output
