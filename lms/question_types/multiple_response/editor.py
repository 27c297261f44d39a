"""The quiz editor's multiple response: every right option ticked."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from lms.question_types.choices.editor import ChoiceEditor, OptionForm
from lms.question_types.editor import fail


class MultipleResponseEditor(ChoiceEditor):
    label, new_heading = _l("Multiple response"), _l("New multiple-response question")
    key_hint = _l("(tick every correct answer) · empty an option to remove it")

    def check_key(self, options: list[OptionForm], first: OptionForm) -> bool:
        return any(o.correct.data for o in options) or fail(first.correct, _("Tick at least one option as correct."))

    def key(self, options: list[OptionForm]) -> list[str]:
        return [o.id.data.strip() for o in options if o.correct.data]
