"""A statement the agent marks true or false."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from lms.checked_yaml.fields import Fields, describe, prefix, text_value
from lms.checked_yaml.lenient import text
from lms.question_types.base import Grade, Pick, Question, QuestionType, ResponseError, item_points
from lms.question_types.lint import bare_feedback
from lms.question_types.true_false.editor import TrueFalseEditor

# Keys more than this share one way let "always answer false" pass. A quiz with fewer than two
# true/false items cannot be balanced, so it is not judged.
TRUE_FALSE_SHARE = 0.70
TRUE_FALSE_MIN_ITEMS = 2


@dataclass(frozen=True, kw_only=True)
class TrueFalseQuestion(Question):
    """A statement the agent marks true or false."""

    prompt: str
    correct: bool
    feedback_true: str
    feedback_false: str


class TrueFalse(QuestionType):
    name, label, xapi_interaction = "true_false", _l("True or false"), "true-false"
    editor = TrueFalseEditor
    yaml_keys = ("prompt", "correct", "feedback_true", "feedback_false")

    fields: Fields = {"prompt": (True, text_value), "correct": (True, None),
                      "feedback_true": (True, text_value), "feedback_false": (True, text_value)}

    def check(self, report, label, item, pass_mark):
        if "correct" in item and not isinstance(item["correct"], bool):
            report.add(item.line_of("correct"),
                       f"{prefix(label)}'correct' must be true or false, got {describe(item['correct'])}")

    def build(self, data, common):
        return TrueFalseQuestion(type=self.name, prompt=text(data, "prompt"), correct=data.get("correct") is True,
                                 feedback_true=text(data, "feedback_true"),
                                 feedback_false=text(data, "feedback_false"), **common)

    def lint(self, item):
        return bare_feedback([("the answer True", item, "feedback_true"), ("the answer False", item, "feedback_false")])

    def lint_bank(self, items):
        keys = {item.get("id"): item["correct"] for item in items if isinstance(item.get("correct"), bool)}
        if len(keys) < TRUE_FALSE_MIN_ITEMS:
            return
        trues = sum(keys.values())
        majority = max(trues, len(keys) - trues)
        if majority / len(keys) > TRUE_FALSE_SHARE:
            way = "true" if trues > len(keys) - trues else "false"
            ids = ", ".join(f"'{item_id}'" for item_id, key in keys.items() if str(key).lower() == way)
            yield (f"{majority} of the {len(keys)} true/false keys are {way} (questions {ids}); more than "
                   f"{TRUE_FALSE_SHARE:.0%} one way lets a guess pass: rewrite some statements the other way")

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
        # The export's own words; the PDF of it translates them (answer_words).
        return "True" if response is True else "False"

    def answer_words(self, answer):
        return gettext("True") if answer == "True" else gettext("False")

    def picks(self, item):
        return [Pick("true", "True", item["correct"] is True), Pick("false", "False", item["correct"] is False)]

    def chosen(self, item, response):
        return ["true" if response else "false"] if isinstance(response, bool) else []
