"""One answer from a list of options."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.checked_yaml.fields import describe, prefix
from lms.question_types.base import Grade, Pick, ResponseError, item_points
from lms.question_types.choices import ChoiceType, not_among


class SingleChoice(ChoiceType):
    name, label, xapi_interaction = "single_choice", _l("Choose one answer"), "choice"

    def check_key(self, report, label, item, option_ids):
        value, line = item["correct"], item.line_of("correct")
        if not isinstance(value, str):
            report.add(line, f"{prefix(label)}'correct' must be one option id, got {describe(value)}")
        elif option_ids and value not in option_ids:
            report.add(line, f"{prefix(label)}correct answer '{value}' {not_among(option_ids)}")

    def parse(self, item, shown, form, previous):
        choice = form.get("option", "")
        if choice not in shown["order"]:
            raise ResponseError(gettext("Choose one of the answers."))
        return choice

    def grade(self, item, response, quiz):
        worth = item_points(item)
        return Grade(worth if response == item["correct"] else 0, worth)

    def picks(self, item):
        return [Pick(o["id"], o["text"], o["id"] == item["correct"]) for o in item["options"]]

    def chosen(self, item, response):
        return [response] if isinstance(response, str) else []
