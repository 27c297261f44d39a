"""The quiz editor's multiple response: every right option ticked (ChoiceEditor's own key)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.question_types.choices.editor import ChoiceEditor


class MultipleResponseEditor(ChoiceEditor):
    label, new_heading = _l("Multiple response"), _l("New multiple-response question")
    key_hint = _l("(tick every correct answer) · empty an option to remove it")
