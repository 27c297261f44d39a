"""The quiz editor's true or false: the statement, which it is, and feedback for each answer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired

from lms.question_types.editor import TypeEditor, typed_text


class TrueFalseEditor(TypeEditor):
    label, new_heading = _l("True or false"), _l("New true-or-false question")
    template = "true_false/editor.html"
    keys = ("prompt", "correct", "feedback_true", "feedback_false")

    prompt = TextAreaField(_l("Statement"), validators=[InputRequired()])
    correct = RadioField(_l("The statement is"), choices=[("true", _l("True")), ("false", _l("False"))],
                         validators=[InputRequired(message=_l("Say whether the statement is true or false."))])
    feedback_true = TextAreaField(_l("Feedback for an agent who answers True"), validators=[InputRequired()])
    feedback_false = TextAreaField(_l("Feedback for an agent who answers False"), validators=[InputRequired()])

    def load(self, item: dict) -> None:
        self.prompt.data = item.get("prompt")
        correct = item.get("correct")
        self.correct.data = "true" if correct is True else "false" if correct is False else None
        self.feedback_true.data, self.feedback_false.data = item.get("feedback_true"), item.get("feedback_false")

    def dump(self, item: dict) -> dict:
        return {"prompt": typed_text(self.prompt.data), "correct": self.correct.data == "true",
                "feedback_true": typed_text(self.feedback_true.data),
                "feedback_false": typed_text(self.feedback_false.data)}
