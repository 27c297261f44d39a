"""A statement the agent marks true or false."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.question_types.base import Grade, Pick, QuestionType, ResponseError, item_points


class TrueFalse(QuestionType):
    name, label, xapi_interaction = "true_false", _l("True or false"), "true-false"
    yaml_keys = ("prompt", "correct", "feedback_true", "feedback_false")

    def prepare(self, item, rng):
        return {"order": ["true", "false"]}

    def parse(self, item, shown, form, previous):
        value = form.get("option", "")
        if value not in ("true", "false"):
            raise ResponseError(gettext("Choose true or false."))
        return value == "true"

    def grade(self, item, response, quiz):
        worth = item_points(item)
        return Grade(worth if response is item["correct"] else 0, worth)

    def answered(self, item, response):
        return isinstance(response, bool)

    def display(self, item, shown, response):
        return {"options": [{"id": "true", "text": gettext("True")}, {"id": "false", "text": gettext("False")}]}

    def answer_text(self, item, response):
        # The export's own words; the PDF of it translates them.
        return "True" if response is True else "False"

    def picks(self, item):
        return [Pick("true", "True", item["correct"] is True), Pick("false", "False", item["correct"] is False)]

    def chosen(self, item, response):
        return ["true" if response else "false"] if isinstance(response, bool) else []
