"""Question types own everything about themselves (#20): no code or template outside a type's
package names a type, so a new type is a package in lms/question_types and one registry entry.
"""
from __future__ import annotations

import re
from pathlib import Path

from lms.question_types import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
TYPE_NAME = re.compile(r"""["'](%s)["']""" % "|".join(REGISTRY))


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
    assert _naming_a_type() == {}, ("these name a question type outside lms/question_types; ask the type "
                                    "(lms.question_types.question_type) instead")


def test_every_type_has_its_templates():
    for qtype in REGISTRY.values():
        package = ROOT / "lms" / "question_types"
        for template in (qtype.template, qtype.review_template, qtype.editor.template):
            assert (package / template).is_file(), template
