"""What a question type gives the quiz editor: its own fields of the question form, the template
that draws them, and how they map to and from the item (`TypeEditor`). The editor's form
(lms/authoring/quiz_forms.py) composes a type's editor with the fields every item has.

Each type's editor is in its package's `editor.py` and `editor.html`. Their strings are in the
authoring catalogue (babel/authoring.cfg), not in the agent one with the rest of the package.
"""
from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from wtforms.validators import Regexp

SLUG_RULE = Regexp(r"^[a-z0-9][a-z0-9-]*$",
                   message=_l("Use lowercase letters, digits and hyphens, starting with a letter or digit."))


def typed_text(value: str | None) -> str:
    """Typed text as stored: CRLF from browsers becomes LF, surrounding blank space goes."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def fail(field: Any, message: str) -> bool:
    """Add an error to a field after validation (for rules that need several fields)."""
    field.errors = list(field.errors) + [message]
    return False


class TypeEditor:
    """A question type's fields in the quiz editor: a mixin of WTForms fields and the hooks below,
    which the editor's question form calls. The hooks get and give plain dicts, as the quiz
    file holds them: a draft may hold anything, so `load` takes what it finds."""

    # The type's name to trainers ("Single choice"), and the heading of the page that adds one.
    label: ClassVar[Any]
    new_heading: ClassVar[Any]
    # The template that draws the fields, inside the question form; `form` is the whole form.
    template: ClassVar[str]
    save_label: ClassVar[Any] = _l("Save question")
    # The item's keys these fields edit; keys the editor does not know are kept as they were.
    keys: ClassVar[tuple[str, ...]] = ()
    # The `action` of a button that only adds a blank row (an option) to the form, if any.
    row_action: ClassVar[str | None] = None
    # The item is a graph of nodes (a call): the editor draws its tree and edits it node by node.
    has_nodes: ClassVar[bool] = False

    @staticmethod
    def summary(item: dict) -> str:
        """A line that tells the item apart in the quiz's list of questions."""
        prompt = item.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    def prepare(self, item: dict | None) -> None:
        """Called on every request before the form is drawn or checked (`item` is None for a new one)."""

    def add_row(self) -> None:
        """Add a blank row, so one more can be filled in without scripts; nothing by default."""

    def load(self, item: dict) -> None:
        """Fill the fields from the item."""

    def dump(self, item: dict) -> dict:
        """This type's keys as the fields say (`item` is the item before the edit, {} for a new one)."""
        return {}

    def check(self) -> bool:
        """Rules across fields, after each field's own: add errors with `fail` and say whether all hold."""
        return True
