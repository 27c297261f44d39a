"""Every right answer from a list of options; scored all or nothing, or in part (the quiz's
`multiple_response_scoring`)."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.question_types.base import Grade, Pick, ResponseError, item_points
from lms.question_types.choices import ChoiceType
from lms.question_types.multiple_response.editor import MultipleResponseEditor


class MultipleResponse(ChoiceType):
    name, label, xapi_interaction = "multiple_response", _l("Choose all that apply"), "choice"
    editor = MultipleResponseEditor

    def parse(self, item, shown, form, previous):
        chosen = form.getlist("option")
        if not chosen or not set(chosen) <= set(shown["order"]):
            raise ResponseError(gettext("Choose at least one answer."))
        return sorted(set(chosen))

    def grade(self, item, response, quiz):
        worth = item_points(item)
        key, chosen = set(item["correct"]), set(response or [])
        if quiz.get("multiple_response_scoring", "all_or_nothing") == "partial":
            # Each right choice earns a share; each wrong one takes a share back; never below 0.
            share = (len(chosen & key) - len(chosen - key)) / len(key)
            return Grade(round(max(0.0, share) * worth, 4), worth)
        return Grade(worth if chosen == key else 0, worth)

    def picks(self, item):
        key = set(item["correct"])
        return [Pick(o["id"], o["text"], o["id"] in key) for o in item["options"]]

    def chosen(self, item, response):
        return set(response) if isinstance(response, list) else []
