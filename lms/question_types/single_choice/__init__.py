"""One answer from a list of options."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.question_types.base import ChoiceType, Grade, Pick, ResponseError, item_points


class SingleChoice(ChoiceType):
    name, label, xapi_interaction = "single_choice", _l("Choose one answer"), "choice"

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
