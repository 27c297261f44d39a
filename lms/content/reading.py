"""A content root read once: the parsed tree, the country notes, and every problem with them.

`content check`, `content load` and the tests all read content through here, so that loading
validates and syncs the same parsed objects instead of parsing the files a second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .country_notes import CountryNote, check_country_notes, parse_country_notes
from .model import ContentTree
from .parser import Problem, parse_tree
from .translations import check_translations
from .validate import validate_tree


@dataclass(frozen=True)
class CheckedContent:
    tree: ContentTree
    country_notes: dict[str, CountryNote]
    problems: list[Problem]  # sorted by path and line; content with any is not loaded


def read_content(root: Path) -> CheckedContent:
    """Parse everything under `root` and validate it, reading each file once."""
    tree, problems = parse_tree(root)
    problems += validate_tree(tree)
    problems += check_translations(tree)
    notes, note_problems = parse_country_notes(root)
    problems += note_problems
    problems += check_country_notes(notes, tree)
    return CheckedContent(tree, notes, sorted(problems, key=lambda problem: (problem.path, problem.line)))
