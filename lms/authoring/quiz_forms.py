"""Forms of the quiz editor: the quiz's settings, and the question form, which adds to the fields
every item has those of the item's type (each type's `TypeEditor`, lms/question_types/*/editor.py).

Each form checks what it can see on its own (the field rules of docs/content-format.md) and
points at the field; rules that need the whole quiz (draw rules against the bank, the
simulation graph) are content check's, shown next to the form and enforced at publishing.
`to_data` / `from_data` convert between a form and the plain dicts of quiz_yaml, leaving
out empty optional fields so a round trip through the form does not change the file.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from lms.authoring.forms import PHASE_CHOICES, MultiCheckboxField, lines
from lms.content.model import DIFFICULTIES, review_mode
from lms.content.validate import ARTICLE, TEACHES
from lms.question_types import REGISTRY
from lms.question_types.editor import SLUG_RULE, TypeEditor, fail, typed_text

DIFFICULTY_LABELS = {"easy": _l("Easy"), "medium": _l("Medium"), "hard": _l("Hard")}
DIFFICULTY_CHOICES = [(d, DIFFICULTY_LABELS.get(d, d.capitalize())) for d in DIFFICULTIES]
REVIEW_CHOICES = [("after_submit", _l("After every attempt")), ("after_pass", _l("Once the agent has passed")),
                  ("never", _l("Never"))]
SCORING_CHOICES = [("all_or_nothing", _l("All or nothing")), ("partial", _l("Partial credit"))]


def type_choices() -> list[tuple[str, Any]]:
    """(name, label) of each question type, in the registry's order."""
    return [(name, qtype.editor.label) for name, qtype in REGISTRY.items()]


def _cites_article(form: Form, field: Any) -> None:
    if field.data and not ARTICLE.search(field.data):
        raise ValidationError(_("Cite an article, for example '(Art. 12(3))'."))


def _references_rule(form: Form, field: Any) -> None:
    references = lines(field.data)
    if not references:
        raise ValidationError(_("Give at least one reference, one per line."))
    if len(set(references)) != len(references):
        raise ValidationError(_("Each reference once, please."))
    if not any(ARTICLE.search(line) for line in references):
        raise ValidationError(_("At least one reference must name an article, such as 'Art. 15'."))


# -- quiz settings ---------------------------------------------------------------------------

class DrawRuleForm(Form):
    phase = SelectField(_l("Phase"), choices=PHASE_CHOICES)
    count = IntegerField(_l("How many"), validators=[Optional(), NumberRange(min=1, max=100)],
                         description=_l("Leave empty to remove this rule."))
    types = MultiCheckboxField(_l("Only these types"), choices=type_choices,
                               description=_l("None ticked: any type."))


class QuizSettingsForm(FlaskForm):
    revision = HiddenField()
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)],
                                description=_l("Shown to agents before they start."))
    pass_mark = IntegerField(_l("Pass mark (%)"), validators=[InputRequired(), NumberRange(1, 100)])
    time_limit_minutes = IntegerField(_l("Time limit (minutes)"), validators=[Optional(), NumberRange(1, 600)],
                                      description=_l("Leave empty for no limit."))
    max_attempts = IntegerField(_l("Attempts allowed"), validators=[Optional(), NumberRange(min=1, max=1000)],
                                description=_l("Leave empty for unlimited attempts."))
    cooldown_minutes = IntegerField(_l("Minutes between attempts"), validators=[InputRequired(), NumberRange(0, 100000)])
    review = SelectField(_l("Agents see answers and explanations"), choices=REVIEW_CHOICES)
    multiple_response_scoring = SelectField(_l("Multiple-response scoring"), choices=SCORING_CHOICES)
    draw = FieldList(FormField(DrawRuleForm), _l("Draw rule"), min_entries=1, max_entries=20)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not any(rule.form.count.data for rule in self.draw):
            ok = fail(self.draw[0].form.count, _("An attempt needs at least one draw rule with a count."))
            self.draw.errors = [rule.errors for rule in self.draw]
        return ok

    def from_data(self, data: dict) -> None:
        attempts = data.get("attempts") if isinstance(data.get("attempts"), dict) else {}
        for name in ("title", "description", "pass_mark", "time_limit_minutes"):
            getattr(self, name).data = data.get(name)
        self.review.data = review_mode(data.get("review"))
        self.max_attempts.data = attempts.get("max")
        self.cooldown_minutes.data = attempts.get("cooldown_minutes")
        self.multiple_response_scoring.data = data.get("multiple_response_scoring", "all_or_nothing")
        rules = [r for r in data.get("draw") or [] if isinstance(r, dict)]
        while len(self.draw) < len(rules):
            self.draw.append_entry()
        for entry, rule in zip(self.draw, rules):
            entry.form.phase.data, entry.form.count.data = rule.get("phase"), rule.get("count")
            entry.form.types.data = list(rule.get("types") or [])

    def to_data(self, data: dict) -> dict:
        """`data` with these settings applied (its questions untouched)."""
        new = dict(data)
        new["title"] = typed_text(self.title.data)
        description = typed_text(self.description.data)
        if description:
            new["description"] = description
        else:
            new.pop("description", None)
        new["pass_mark"] = self.pass_mark.data
        new["time_limit_minutes"] = self.time_limit_minutes.data
        new["attempts"] = {"max": self.max_attempts.data, "cooldown_minutes": self.cooldown_minutes.data}
        new["review"] = self.review.data
        # An unset field and the default mean the same; keep whichever the file had.
        if self.multiple_response_scoring.data != "all_or_nothing" or "multiple_response_scoring" in data:
            new["multiple_response_scoring"] = self.multiple_response_scoring.data
        new["draw"] = []
        for entry in self.draw:
            if entry.form.count.data:
                rule = {"phase": entry.form.phase.data, "count": entry.form.count.data}
                if entry.form.types.data:
                    rule["types"] = list(entry.form.types.data)
                new["draw"].append(rule)
        ordered = {key: new[key] for key in ("title", "description", "pass_mark", "time_limit_minutes",
                                             "attempts", "review", "multiple_response_scoring", "draw")
                   if key in new}
        return {**ordered, **{k: v for k, v in new.items() if k not in ordered}}


# -- questions --------------------------------------------------------------------------------

class QuestionForm(FlaskForm, TypeEditor):
    """The fields every item has. `question_form` makes the form of an item's type by adding the
    type's editor (its fields, its template, and the hooks of TypeEditor that this form calls)."""

    revision = HiddenField()
    id = StringField(_l("Question id"), validators=[InputRequired(), Length(max=100), SLUG_RULE],
                     description=_l("Stable across versions: results and analysis follow it."))
    phase = SelectField(_l("Moment of the call"), choices=PHASE_CHOICES)
    difficulty = SelectField(_l("Difficulty"), choices=DIFFICULTY_CHOICES)
    points = IntegerField(_l("Points"), validators=[Optional(), NumberRange(1, 10)],
                          description=_l("Leave empty for 1."))
    explanation = TextAreaField(_l("Explanation"), validators=[InputRequired(), _cites_article],
                                description=_l("Why the right answer is right; cite an article."))
    references = TextAreaField(_l("References"), validators=[_references_rule],
                               description=_l("One per line, e.g. Art. 15, EDPB Guidelines 01/2022."))
    teaches = StringField(
        _l("Lesson section that teaches it"), validators=[Optional(), Length(max=300), Regexp(
            TEACHES.pattern, message=_l("Write course/lesson-id#section, e.g. recording-calls/telling-callers#say-it-first."))],
        description=_l("An agent who misses the question gets a link to it. Publishing checks that the section exists."))

    kind = ""  # the type's name, set by question_form

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.check() and ok  # the type's rules run even when a field failed: all errors at once

    def from_data(self, item: dict) -> None:
        self.id.data, self.phase.data = item.get("id"), item.get("phase")
        self.difficulty.data, self.points.data = item.get("difficulty"), item.get("points")
        self.explanation.data = item.get("explanation")
        self.references.data = "\n".join(r for r in item.get("references") or [] if isinstance(r, str))
        self.teaches.data = item.get("teaches") if isinstance(item.get("teaches"), str) else None
        self.load(item)

    def to_data(self, item: dict) -> dict:
        """The item as this form says, keeping fields the form does not edit."""
        new: dict[str, Any] = {"id": self.id.data.strip(), "type": self.kind, "phase": self.phase.data,
                               "difficulty": self.difficulty.data}
        if self.points.data is not None:
            new["points"] = self.points.data
        new.update(self.dump(item))
        new["explanation"] = typed_text(self.explanation.data)
        new["references"] = lines(self.references.data)
        if typed_text(self.teaches.data):
            new["teaches"] = typed_text(self.teaches.data)
        known = set(new) | {"points", "teaches"} | set(self.keys)
        return {**new, **{k: v for k, v in item.items() if k not in known}}


@cache
def _question_form_class(kind: str, editor: type[TypeEditor]) -> type[QuestionForm]:
    return type(f"{editor.__name__}Form", (QuestionForm, editor), {"kind": kind})


def question_form(kind: str, **kwargs: Any) -> QuestionForm:
    """The form for an item of this type (a registered one: check before)."""
    return _question_form_class(kind, REGISTRY[kind].editor)(**kwargs)


class NewQuizForm(FlaskForm):
    slug = StringField(_l("Quiz slug"), validators=[Optional(), Length(max=100), SLUG_RULE],
                       description=_l("Leave empty to make it from the title. The file name in quizzes/ and "
                                      "the address of the quiz."))
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
