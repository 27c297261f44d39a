"""The quiz editor's ordering: each option's place in the right order."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from lms.question_types.choices.editor import ChoiceEditor, OptionForm
from lms.question_types.editor import fail


class OrderingEditor(ChoiceEditor):
    label, new_heading = _l("Ordering"), _l("New ordering question")
    key_hint = _l("(give each its place in the right order; agents see them shuffled) · empty an option to remove it")
    ranked = True

    def check_key(self, options: list[OptionForm], first: OptionForm) -> bool:
        places = [o.position.data for o in options]
        if sorted(p or 0 for p in places) == list(range(1, len(options) + 1)):
            return True
        target = next((o for o in options if not o.position.data), first)
        return fail(target.position, _("Give each option its place, 1 to %(count)s, each once.", count=len(options)))

    def key(self, options: list[OptionForm]) -> list[str]:
        return [o.id.data.strip() for o in sorted(options, key=lambda o: o.position.data or 0)]
