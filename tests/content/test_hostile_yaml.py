"""Content YAML nested past MAX_DEPTH is a problem at its file and line, not a RecursionError."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from lms.content import yaml_lines
from lms.extensions import db
from lms.learning.models import Quiz
from tests.content.tree import copy_valid, problems

QUIZ = "quizzes/recording-calls.yaml"
SAID = f"{QUIZ}:2: invalid YAML: the YAML nests more than {yaml_lines.MAX_DEPTH} levels deep"


def _deep_quiz(tmp_path: Path) -> Path:
    root = copy_valid(tmp_path)
    (root / QUIZ).write_text("title: Deep\nquestions: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    return root


def test_the_loader_takes_max_depth_and_refuses_one_more():
    nested, _ = yaml_lines.load("[" * yaml_lines.MAX_DEPTH + "]" * yaml_lines.MAX_DEPTH)
    for _ in range(yaml_lines.MAX_DEPTH - 1):
        (nested,) = nested
    assert nested == []
    with pytest.raises(yaml.YAMLError, match="nests more than"):
        yaml_lines.load("[" * (yaml_lines.MAX_DEPTH + 1) + "]" * (yaml_lines.MAX_DEPTH + 1))


def test_content_check_names_the_file_and_line(tmp_path: Path):
    assert SAID in problems(_deep_quiz(tmp_path))


def test_the_commands_report_it_and_load_nothing(app, runner, tmp_path: Path):
    root = _deep_quiz(tmp_path)
    checked = runner.invoke(args=["lms", "content", "check", str(root)])
    assert checked.exit_code == 1 and SAID in checked.output
    loaded = runner.invoke(args=["lms", "content", "load", str(root)])
    assert loaded.exit_code == 1 and SAID in loaded.output and "Nothing was loaded" in loaded.output
    assert db.session.scalars(select(Quiz)).all() == []
