"""One answer from a list of options."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.checked_yaml.fields import describe, prefix
from lms.question_types.base import Grade, Pick, ResponseError, item_points
from lms.question_types.choices import ChoiceType, not_among
from lms.question_types.lint import is_text, options_of, text_length
from lms.question_types.single_choice.editor import SingleChoiceEditor

# The key is a cue when it is longer than every other option by more than this share of the next
# longest (in characters, spaces collapsed): 20% is about a clause more on a one-line option,
# which test-wise readers notice. Only a single choice has one key to compare.
LONGEST_KEY_MARGIN = 0.20


class SingleChoice(ChoiceType):
    name, label, xapi_interaction = "single_choice", _l("Choose one answer"), "choice"
    editor = SingleChoiceEditor

    def check_key(self, report, label, item, option_ids):
        value, line = item["correct"], item.line_of("correct")
        if not isinstance(value, str):
            report.add(line, f"{prefix(label)}'correct' must be one option id, got {describe(value)}")
        elif option_ids and value not in option_ids:
            report.add(line, f"{prefix(label)}correct answer '{value}' {not_among(option_ids)}")

    def lint(self, item):
        yield from _longest_key(item, options_of(item))
        yield from super().lint(item)

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


def _longest_key(item, options):
    key = item.get("correct")
    lengths = {option.get("id"): text_length(option["text"]) for option in options
               if is_text(option.get("text")) and isinstance(option.get("id"), str)}
    if not isinstance(key, str) or key not in lengths or len(lengths) < 2:
        return
    others = max(length for option_id, length in lengths.items() if option_id != key)
    if lengths[key] > others * (1 + LONGEST_KEY_MARGIN):
        option = next(option for option in options if option.get("id") == key)
        yield option.line_of("text"), (
            f"the key '{key}' is {lengths[key]} characters, more than {LONGEST_KEY_MARGIN:.0%} "
            f"longer than any other option ({others}): length gives it away; shorten it or give "
            "the other options the same care")
