"""The quiz editor's single choice: exactly one option ticked."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from lms.question_types.choices.editor import ChoiceEditor, OptionForm
from lms.question_types.editor import fail


class SingleChoiceEditor(ChoiceEditor):
    label, new_heading = _l("Single choice"), _l("New single-choice question")
    key_hint = _l("(tick the one correct answer) · empty an option to remove it")

    def check_key(self, options: list[OptionForm], first: OptionForm) -> bool:
        return sum(o.correct.data for o in options) == 1 or fail(first.correct, _("Tick exactly one option as correct."))

    def key(self, options: list[OptionForm]) -> str:
        return next((o.id.data.strip() for o in options if o.correct.data), "")
