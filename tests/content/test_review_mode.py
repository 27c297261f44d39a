"""The review policy a quiz file states: after_submit by default, and the older name 'immediate'."""
from __future__ import annotations

import pytest

from lms.content import parse_tree
from tests.content.tree import copy_valid, edit, problems

QUIZ = "quizzes/recording-calls.yaml"


@pytest.mark.parametrize("line, expected", [
    ("", "after_submit"),                         # left out: explanations after every attempt
    ("review: after_submit\n", "after_submit"),
    ("review: immediate\n", "after_submit"),      # what quizzes published before say
    ("review: never\n", "never"),
])
def test_review_policy_read_from_the_file(tmp_path, line, expected):
    root = copy_valid(tmp_path)
    edit(root, QUIZ, "review: after_pass\n", line)
    assert problems(root) == []
    tree, _ = parse_tree(root)
    assert tree.quizzes["recording-calls"].review == expected


def test_an_unknown_review_policy_names_the_three_policies(tmp_path):
    root = copy_valid(tmp_path)
    edit(root, QUIZ, "review: after_pass\n", "review: on_pass\n")
    assert problems(root) == [
        f"{QUIZ}:6: 'review' must be one of after_submit, after_pass, never, got 'on_pass'"]
