"""`python -m lms.content [--strict] [ROOT]`: check content files without Flask.

Prints each problem and item-writing warning, and a count (exit status 1), or
the warnings and a summary of what the content holds (exit status 0). With
--strict, warnings count as problems. ROOT defaults to the current directory.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from lms.question_types import REGISTRY

from .model import PHASES, ContentTree
from .parser import parse_tree
from .validate import check_content


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary(tree: ContentTree) -> str:
    """One line saying what a valid tree holds."""
    questions = [q for quiz in tree.quizzes.values() for q in quiz.questions]
    # Items answered step by step (call simulations) are counted apart from questions.
    stepwise = [bool(REGISTRY[q.type].stepwise) for q in questions]
    simulations = sum(stepwise)
    by_phase = Counter(q.phase for q, is_stepwise in zip(questions, stepwise) if not is_stepwise)
    phases = ", ".join(f"{by_phase[phase]} {phase}" for phase in PHASES)
    lessons = sum(len(course.lessons) for course in tree.courses.values())
    return (f"Content OK: {_plural(len(tree.courses), 'course')}, {_plural(lessons, 'lesson')}, "
            f"{_plural(len(questions) - simulations, 'question')} ({phases}), "
            f"{_plural(simulations, 'simulation')}, {_plural(len(tree.job_aids), 'job aid')}, "
            f"{_plural(len(tree.programmes), 'programme')}")


def main(argv: list[str]) -> int:
    """Run the check on the ROOT in argv (or the current directory); return the exit status."""
    strict = "--strict" in argv
    paths = [arg for arg in argv if arg != "--strict"]
    root = Path(paths[0]) if paths else Path.cwd()
    problems, warnings = check_content(root)
    for problem in problems + warnings:
        print(problem)
    if problems or (strict and warnings):
        print(f"{_plural(len(problems), 'problem')}, {_plural(len(warnings), 'warning')}")
        return 1
    print(summary(parse_tree(root)[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
