"""The quiz editor's fields for the choice types: a prompt and up to eight options, each with
its feedback, and the key, which each type ticks or ranks its own way (`check_key`, `key`)."""
from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import BooleanField, FieldList, Form, FormField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.question_types.editor import SLUG_RULE, TypeEditor, fail, typed_text

MAX_OPTIONS = 8


class OptionForm(Form):
    id = StringField(_l("Option id"), validators=[Optional(), Length(max=100), SLUG_RULE])
    text = TextAreaField(_l("Answer text"), render_kw={"rows": 2})
    feedback = TextAreaField(_l("Feedback"), render_kw={"rows": 2},
                             description=_l("Why this answer is right or wrong."))
    correct = BooleanField(_l("Correct"))
    position = IntegerField(_l("Place in the right order"), validators=[Optional(), NumberRange(1, MAX_OPTIONS)])

    def blank(self) -> bool:
        return not any(typed_text(field.data) for field in (self.id, self.text, self.feedback))


class ChoiceEditor(TypeEditor):
    """A prompt, the options and the key. An option left empty is removed."""

    template = "choices/editor.html"
    keys = ("prompt", "options", "correct")
    row_action = "add_option"
    max_options = MAX_OPTIONS
    # How to mark the key, shown beside the options.
    key_hint: ClassVar[Any]
    # The key is an order: each option gets a place instead of a tick.
    ranked: ClassVar[bool] = False

    prompt = TextAreaField(_l("Prompt"), validators=[InputRequired()],
                           description=_l("The situation, often in the caller's own words."))
    options = FieldList(FormField(OptionForm), _l("Option"), min_entries=2, max_entries=MAX_OPTIONS)

    def filled(self) -> list[OptionForm]:
        return [entry.form for entry in self.options if not entry.form.blank()]

    def check_key(self, options: list[OptionForm], first: OptionForm) -> bool:
        """Whether the ticks or places make a key this type accepts (an error on `first` if not):
        at least one tick, unless the type says otherwise."""
        return any(o.correct.data for o in options) or fail(first.correct, _("Tick at least one option as correct."))

    def key(self, options: list[OptionForm]) -> Any:
        """The item's `correct` as the options say: the ticked ids, unless the type says otherwise."""
        return [o.id.data.strip() for o in options if o.correct.data]

    def add_row(self) -> None:
        if len(self.options) < MAX_OPTIONS:
            self.options.append_entry()

    def check(self) -> bool:
        ok = True
        options = self.filled()
        seen: set[str] = set()
        for option in options:
            for name in ("id", "text", "feedback"):
                if not typed_text(getattr(option, name).data):
                    ok = fail(getattr(option, name), _("Fill this in, or empty the whole option to remove it."))
            if option.id.data in seen:
                ok = fail(option.id, _("Another option already has the id '%(id)s'.", id=option.id.data))
            seen.add(option.id.data)
        first = self.options[0].form
        if len(options) < 2:
            ok = fail(first.text, _("A question needs at least two options."))
        elif not self.check_key(options, first):
            ok = False
        self.options.errors = [entry.errors for entry in self.options]
        return ok

    def load(self, item: dict) -> None:
        self.prompt.data = item.get("prompt")
        options = [o for o in item.get("options") or [] if isinstance(o, dict)]
        correct = item.get("correct")
        key = [correct] if isinstance(correct, str) else list(correct) if isinstance(correct, list) else []
        while len(self.options) < len(options):
            self.options.append_entry()
        for entry, option in zip(self.options, options):
            form = entry.form
            form.id.data, form.text.data, form.feedback.data = option.get("id"), option.get("text"), option.get("feedback")
            form.correct.data = option.get("id") in key
            form.position.data = key.index(option["id"]) + 1 if self.ranked and option.get("id") in key else None

    def dump(self, item: dict) -> dict:
        options = self.filled()
        return {"prompt": typed_text(self.prompt.data), "options": [
            {"id": o.id.data.strip(), "text": typed_text(o.text.data), "feedback": typed_text(o.feedback.data)}
            for o in options], "correct": self.key(options)}
