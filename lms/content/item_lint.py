"""Item-writing flaws in quiz questions: warnings that `content check` prints.

A question can be valid and still be answerable without knowing the material: the key is the
one long, careful option; "all of the above" is right because two options look right; a quiz's
true/false statements are nearly all false. Each question type looks for the cues its items can
hold (lms/question_types/lint.py); this module asks them and places the warnings. They are
warnings, not errors, so a draft can be loaded while it is being improved; `content check
--strict` treats them as errors, and the shipped content passes it.

Two flaws the same review asked for are already errors in validate.py, which is stricter than a
warning: an option (or a true/false answer) without feedback, and a question whose explanation
and `references` cite no article. What is linted is feedback that gives a verdict and no reason
("Correct.").
"""

from __future__ import annotations

from lms.checked_yaml.problems import Problem
from lms.checked_yaml.yaml_lines import LineDict
from lms.question_types import REGISTRY, QuestionType

from .model import ContentTree, Quiz


def lint_quiz(quiz: Quiz) -> list[Problem]:
    """The item-writing warnings for one quiz, each as `path:line: warning: question 'id': ...`."""
    questions = quiz.source.get("questions")
    items = [item for item in questions if isinstance(item, LineDict)] if isinstance(questions, list) else []
    warnings: list[Problem] = []
    by_type: dict[QuestionType, list[LineDict]] = {}
    for item in items:
        qtype = REGISTRY.get(item.get("type")) if isinstance(item.get("type"), str) else None
        if qtype is None:
            continue  # validation reports it
        by_type.setdefault(qtype, []).append(item)
        for line, message in qtype.lint(item):
            warnings.append(Problem(quiz.path, line, f"warning: question '{item.get('id')}': {message}"))
    for qtype, its_items in by_type.items():
        for message in qtype.lint_bank(its_items):
            warnings.append(Problem(quiz.path, quiz.source.line_of("questions"), f"warning: {message}"))
    return warnings


def lint_tree(tree: ContentTree) -> list[Problem]:
    """Item-writing warnings for every quiz of the tree, sorted by path and line."""
    warnings = [warning for quiz in tree.quizzes.values() for warning in lint_quiz(quiz)]
    return sorted(warnings, key=lambda warning: (warning.path, warning.line))
