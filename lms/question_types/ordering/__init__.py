"""Steps the agent puts in order: one position select per step."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.checked_yaml.fields import prefix
from lms.question_types.base import Grade, ResponseError, item_points
from lms.question_types.choices import ChoiceType
from lms.question_types.ordering.editor import OrderingEditor


class Ordering(ChoiceType):
    name, label, xapi_interaction = "ordering", _l("Put these steps in order"), "sequencing"
    editor = OrderingEditor
    answer_numbered = True

    def check_key_covers(self, report, label, item, option_ids, keyed):
        missing = [option for option in option_ids if option not in keyed]
        if missing:
            report.add(item.line_of("correct"), f"{prefix(label)}'correct' must list every option in order; "
                                                f"missing: {', '.join(missing)}")

    def parse(self, item, shown, form, previous):
        # One select per step: "position-<option id>" = 1..n, each position used once.
        ids = shown["order"]
        try:
            positions = {oid: int(form.get(f"position-{oid}", "")) for oid in ids}
        except ValueError:
            raise ResponseError(gettext("Give every step a position.")) from None
        if sorted(positions.values()) != list(range(1, len(ids) + 1)):
            raise ResponseError(gettext("Use each position once: 1 for the first step, 2 for the next, and so on."))
        return sorted(ids, key=positions.__getitem__)

    def grade(self, item, response, quiz):
        worth = item_points(item)
        return Grade(worth if list(response or []) == list(item["correct"]) else 0, worth)
