"""Question types own everything about themselves (#20): no code or template outside a type's
package names a type, so a new type is a package in lms/question_types and one registry entry.

The quiz editor's forms and pages, and the PDF of a person's data, still hold type knowledge of
their own; KNOWN lists them until that moves into the types too. An entry no longer needed fails
the suite, so the list only shrinks.
"""
from __future__ import annotations

import re
from pathlib import Path

from lms.question_types import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
TYPE_NAME = re.compile(r"""["'](%s)["']""" % "|".join(REGISTRY))
KNOWN = {
    "lms/authoring/quiz_forms.py",
    "lms/authoring/views/quiz.py", "templates/authoring/quiz_edit.html", "templates/authoring/quiz_question.html",
    "templates/pdf/my_data.html",
}


def _naming_a_type() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in [*ROOT.joinpath("lms").rglob("*.py"), *ROOT.joinpath("lms").rglob("*.html"),
                 *ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("static", "js").glob("*.js")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("lms/question_types/"):
            continue
        lines = [number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if TYPE_NAME.search(line)]
        if lines:
            found[relative] = lines
    return found


def test_only_a_types_own_package_names_it():
    outside = {path: lines for path, lines in _naming_a_type().items() if path not in KNOWN}
    assert outside == {}, ("these name a question type outside lms/question_types; ask the type "
                           "(lms.question_types.question_type) instead")


def test_every_known_exception_is_still_needed():
    assert sorted(KNOWN - set(_naming_a_type())) == []


def test_every_type_has_its_templates():
    for qtype in REGISTRY.values():
        package = ROOT / "lms" / "question_types"
        assert (package / qtype.template).is_file(), qtype.template
        assert (package / qtype.review_template).is_file(), qtype.review_template
