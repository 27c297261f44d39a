"""Forms of the quiz editor: settings, a question of each type, a simulation and its nodes.

Each form checks what it can see on its own (the field rules of docs/content-format.md) and
points at the field; rules that need the whole quiz (draw rules against the bank, the
simulation graph) are content check's, shown next to the form and enforced at publishing.
`to_data` / `from_data` convert between a form and the plain dicts of quiz_yaml, leaving
out empty optional fields so a round trip through the form does not change the file.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, FieldList, Form, FormField, HiddenField, IntegerField, RadioField, SelectField,
    SelectMultipleField, StringField, TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from lms.content.model import DIFFICULTIES, PHASES, review_mode
from lms.content.validate import ARTICLE, TEACHES

SLUG_RULE = Regexp(r"^[a-z0-9][a-z0-9-]*$",
                   message=_l("Use lowercase letters, digits and hyphens, starting with a letter or digit."))
PHASE_CHOICES = [(p, {"before": _l("Before the call"), "during": _l("During the call"),
                      "after": _l("After the call")}[p]) for p in PHASES]
DIFFICULTY_LABELS = {"easy": _l("Easy"), "medium": _l("Medium"), "hard": _l("Hard")}
DIFFICULTY_CHOICES = [(d, DIFFICULTY_LABELS.get(d, d.capitalize())) for d in DIFFICULTIES]
REVIEW_CHOICES = [("after_submit", _l("After every attempt")), ("after_pass", _l("Once the agent has passed")),
                  ("never", _l("Never"))]
SCORING_CHOICES = [("all_or_nothing", _l("All or nothing")), ("partial", _l("Partial credit"))]
TYPE_LABELS = {"single_choice": _l("Single choice"), "multiple_response": _l("Multiple response"),
               "true_false": _l("True or false"), "ordering": _l("Ordering"),
               "call_simulation": _l("Call simulation")}
MAX_OPTIONS = 8


def _cites_article(form: Form, field: Any) -> None:
    if field.data and not ARTICLE.search(field.data):
        raise ValidationError(_("Cite an article, for example '(Art. 12(3))'."))


def _references_rule(form: Form, field: Any) -> None:
    lines = references_list(field.data)
    if not lines:
        raise ValidationError(_("Give at least one reference, one per line."))
    if len(set(lines)) != len(lines):
        raise ValidationError(_("Each reference once, please."))
    if not any(ARTICLE.search(line) for line in lines):
        raise ValidationError(_("At least one reference must name an article, such as 'Art. 15'."))


def references_list(text: str | None) -> list[str]:
    """References typed one per line, blank lines left out."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def text_value(value: str | None) -> str:
    """Typed text as stored: CRLF from browsers becomes LF, surrounding blank space goes."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def fail(field: Any, message: str) -> bool:
    """Add an error to a field after validation (for rules that need several fields)."""
    field.errors = list(field.errors) + [message]
    return False


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# -- quiz settings ---------------------------------------------------------------------------

class DrawRuleForm(Form):
    phase = SelectField(_l("Phase"), choices=PHASE_CHOICES)
    count = IntegerField(_l("How many"), validators=[Optional(), NumberRange(min=1, max=100)],
                         description=_l("Leave empty to remove this rule."))
    types = MultiCheckboxField(_l("Only these types"), choices=list(TYPE_LABELS.items()),
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
        new["title"] = text_value(self.title.data)
        description = text_value(self.description.data)
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

class QuestionForm(FlaskForm):
    """The fields every item has. Each question type's form (see `question_form`) adds its own
    fields, names them in `type_fields` and returns them from `type_data()`."""

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

    kind = ""
    type_fields: tuple[str, ...] = ()
    type_data: Callable[[], dict]  # defined by each question type's form

    def from_data(self, item: dict) -> None:
        self.id.data, self.phase.data = item.get("id"), item.get("phase")
        self.difficulty.data, self.points.data = item.get("difficulty"), item.get("points")
        self.explanation.data = item.get("explanation")
        self.references.data = "\n".join(r for r in item.get("references") or [] if isinstance(r, str))
        self.teaches.data = item.get("teaches") if isinstance(item.get("teaches"), str) else None

    def common_data(self, item: dict) -> dict:
        data: dict[str, Any] = {"id": self.id.data.strip(), "type": self.kind, "phase": self.phase.data,
                                "difficulty": self.difficulty.data}
        if self.points.data is not None:
            data["points"] = self.points.data
        return data

    def to_data(self, item: dict) -> dict:
        """The item as this form says, keeping fields the form does not edit."""
        new = self.common_data(item)
        new.update(self.type_data())
        new["explanation"] = text_value(self.explanation.data)
        new["references"] = references_list(self.references.data)
        if text_value(self.teaches.data):
            new["teaches"] = text_value(self.teaches.data)
        known = set(new) | {"points", "teaches"} | set(self.type_fields)
        return {**new, **{k: v for k, v in item.items() if k not in known}}


class OptionForm(Form):
    id = StringField(_l("Option id"), validators=[Optional(), Length(max=100), SLUG_RULE])
    text = TextAreaField(_l("Answer text"), render_kw={"rows": 2})
    feedback = TextAreaField(_l("Feedback"), render_kw={"rows": 2},
                             description=_l("Why this answer is right or wrong."))
    correct = BooleanField(_l("Correct"))
    position = IntegerField(_l("Place in the right order"), validators=[Optional(), NumberRange(1, MAX_OPTIONS)])

    def blank(self) -> bool:
        return not any(text_value(field.data) for field in (self.id, self.text, self.feedback))


class ChoiceQuestionForm(QuestionForm):
    """single_choice, multiple_response and ordering: a prompt, options and the key."""

    prompt = TextAreaField(_l("Prompt"), validators=[InputRequired()],
                           description=_l("The situation, often in the caller's own words."))
    options = FieldList(FormField(OptionForm), _l("Option"), min_entries=2, max_entries=MAX_OPTIONS)
    type_fields = ("prompt", "options", "correct")

    def __init__(self, *args: Any, kind: str = "single_choice", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind

    def filled(self) -> list[OptionForm]:
        return [entry.form for entry in self.options if not entry.form.blank()]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        options = self.filled()
        seen: set[str] = set()
        for option in options:
            for name in ("id", "text", "feedback"):
                if not text_value(getattr(option, name).data):
                    ok = fail(getattr(option, name), _("Fill this in, or empty the whole option to remove it."))
            if option.id.data in seen:
                ok = fail(option.id, _("Another option already has the id '%(id)s'.", id=option.id.data))
            seen.add(option.id.data)
        first = self.options[0].form
        if len(options) < 2:
            ok = fail(first.text, _("A question needs at least two options."))
        elif self.kind == "single_choice" and sum(o.correct.data for o in options) != 1:
            ok = fail(first.correct, _("Tick exactly one option as correct."))
        elif self.kind == "multiple_response" and not any(o.correct.data for o in options):
            ok = fail(first.correct, _("Tick at least one option as correct."))
        elif self.kind == "ordering":
            places = [o.position.data for o in options]
            if sorted(p or 0 for p in places) != list(range(1, len(options) + 1)):
                target = next((o for o in options if not o.position.data), first)
                ok = fail(target.position, _("Give each option its place, 1 to %(count)s, each once.", count=len(options)))
        self.options.errors = [entry.errors for entry in self.options]
        return ok

    def from_data(self, item: dict) -> None:
        super().from_data(item)
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
            form.position.data = key.index(option["id"]) + 1 if self.kind == "ordering" and option.get("id") in key else None

    def type_data(self) -> dict:
        options = self.filled()
        data: dict[str, Any] = {"prompt": text_value(self.prompt.data), "options": [
            {"id": o.id.data.strip(), "text": text_value(o.text.data), "feedback": text_value(o.feedback.data)}
            for o in options]}
        if self.kind == "single_choice":
            data["correct"] = next((o.id.data.strip() for o in options if o.correct.data), "")
        elif self.kind == "multiple_response":
            data["correct"] = [o.id.data.strip() for o in options if o.correct.data]
        else:
            data["correct"] = [o.id.data.strip() for o in sorted(options, key=lambda o: o.position.data or 0)]
        return data


class TrueFalseForm(QuestionForm):
    prompt = TextAreaField(_l("Statement"), validators=[InputRequired()])
    correct = RadioField(_l("The statement is"), choices=[("true", _l("True")), ("false", _l("False"))],
                         validators=[InputRequired(message=_l("Say whether the statement is true or false."))])
    feedback_true = TextAreaField(_l("Feedback for an agent who answers True"), validators=[InputRequired()])
    feedback_false = TextAreaField(_l("Feedback for an agent who answers False"), validators=[InputRequired()])
    kind = "true_false"
    type_fields = ("prompt", "correct", "feedback_true", "feedback_false")

    def from_data(self, item: dict) -> None:
        super().from_data(item)
        self.prompt.data = item.get("prompt")
        correct = item.get("correct")
        self.correct.data = "true" if correct is True else "false" if correct is False else None
        self.feedback_true.data, self.feedback_false.data = item.get("feedback_true"), item.get("feedback_false")

    def type_data(self) -> dict:
        return {"prompt": text_value(self.prompt.data), "correct": self.correct.data == "true",
                "feedback_true": text_value(self.feedback_true.data),
                "feedback_false": text_value(self.feedback_false.data)}


class SimulationForm(QuestionForm):
    """The simulation as a whole; its nodes have a form each (NodeForm)."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    scenario = TextAreaField(_l("Scenario"), validators=[InputRequired()],
                             description=_l("What the agent reads before the call starts."))
    start = SelectField(_l("First node"), validate_choice=False)
    opening = TextAreaField(_l("The caller's first line"), validators=[Optional()],
                            description=_l("Becomes the first node, n1."))
    kind = "call_simulation"
    type_fields = ("title", "scenario", "start", "nodes")

    def from_data(self, item: dict) -> None:
        super().from_data(item)
        self.title.data, self.scenario.data, self.start.data = item.get("title"), item.get("scenario"), item.get("start")

    def set_nodes(self, node_ids: list[str], current: str | None) -> None:
        self.start.choices = [(n, n) for n in node_ids]
        if current and current not in node_ids:
            self.start.choices.append((current, _("%(node)s (no such node)", node=current)))

    def type_data(self) -> dict:
        return {"title": text_value(self.title.data), "scenario": text_value(self.scenario.data),
                "start": self.start.data or ""}

    def to_data(self, item: dict) -> dict:
        new = super().to_data(item)
        new["nodes"] = item.get("nodes") or [{"id": "n1", "caller": text_value(self.opening.data)}]
        if not new["start"]:
            new["start"] = new["nodes"][0].get("id", "n1")
        order = ("id", "type", "phase", "difficulty", "points", "title", "scenario", "start", "nodes")
        return {**{k: new[k] for k in order if k in new}, **{k: v for k, v in new.items() if k not in order}}


class ReplyForm(Form):
    id = StringField(_l("Reply id"), validators=[Optional(), Length(max=100), SLUG_RULE])
    text = TextAreaField(_l("What the agent says"), render_kw={"rows": 2})
    feedback = TextAreaField(_l("Feedback"), render_kw={"rows": 2})
    score = SelectField(_l("Score"), choices=[("3", _l("3 · best practice")), ("2", _l("2 · acceptable")),
                                              ("1", _l("1 · acceptable")), ("0", _l("0 · harmful"))], default="3")
    next = SelectField(_l("Goes to node"), validate_choice=False)
    critical = TextAreaField(
        _l("Critical failure: the reason the agent is told"), render_kw={"rows": 2},
        description=_l("Only for a reply that would be a breach on a real call; it must score 0, and a path "
                       "through it fails the attempt. Cite the article. Leave empty for any other reply."))
    discloses = BooleanField(_l("This reply discloses personal data or promises an exfiltration "
                                "(it must then be critical)"))

    def blank(self) -> bool:
        return not any(text_value(field.data) for field in (self.id, self.text, self.feedback))


class NodeForm(FlaskForm):
    revision = HiddenField()
    id = StringField(_l("Node id"), validators=[InputRequired(), Length(max=100), SLUG_RULE])
    caller = TextAreaField(_l("What the caller says"), validators=[InputRequired()])
    end = BooleanField(_l("The call ends here (no replies)"))
    choices = FieldList(FormField(ReplyForm), _l("Reply"), min_entries=0, max_entries=12)

    def set_nodes(self, node_ids: list[str]) -> None:
        for entry in self.choices:
            current = entry.form.next.data
            entry.form.next.choices = [("", _("Choose a node…"))] + [(n, n) for n in node_ids]
            if current and current not in node_ids:
                entry.form.next.choices.append((current, _("%(node)s (no such node)", node=current)))

    def filled(self) -> list[ReplyForm]:
        return [entry.form for entry in self.choices if not entry.form.blank()]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        seen: set[str] = set()
        replies = self.filled()
        for reply in replies:
            for name in ("id", "text", "feedback", "next"):
                if not text_value(getattr(reply, name).data):
                    ok = fail(getattr(reply, name), _("Fill this in, or empty the whole reply to remove it."))
            if reply.id.data in seen:
                ok = fail(reply.id, _("Another reply already has the id '%(id)s'.", id=reply.id.data))
            seen.add(reply.id.data)
        if self.end.data and replies:
            ok = fail(self.end, _("An ending has no replies: empty them, or untick this."))
        self.choices.errors = [entry.errors for entry in self.choices]
        return ok

    def from_data(self, node: dict) -> None:
        self.id.data, self.caller.data, self.end.data = node.get("id"), node.get("caller"), node.get("end") is True
        choices = [c for c in node.get("choices") or [] if isinstance(c, dict)]
        while len(self.choices) < len(choices):
            self.choices.append_entry()
        for entry, choice in zip(self.choices, choices):
            form = entry.form
            form.id.data, form.text.data, form.feedback.data = choice.get("id"), choice.get("text"), choice.get("feedback")
            form.score.data, form.next.data = str(choice.get("score", 3)), choice.get("next")
            form.critical.data, form.discloses.data = choice.get("critical"), choice.get("discloses") is True

    def to_data(self, node: dict) -> dict:
        new: dict[str, Any] = {"id": self.id.data.strip(), "caller": text_value(self.caller.data)}
        replies = self.filled()
        if self.end.data:
            new["end"] = True
        elif replies or "choices" in node:
            new["choices"] = [_reply_data(r) for r in replies]
        return {**new, **{k: v for k, v in node.items() if k not in ("id", "caller", "end", "choices")}}


def _reply_data(reply: ReplyForm) -> dict:
    """A reply as the content format writes it; `critical` and `discloses` only when set."""
    data: dict[str, Any] = {"id": reply.id.data.strip(), "text": text_value(reply.text.data),
                            "feedback": text_value(reply.feedback.data), "score": int(reply.score.data)}
    if text_value(reply.critical.data):
        data["critical"] = text_value(reply.critical.data)
    if reply.discloses.data:
        data["discloses"] = True
    data["next"] = reply.next.data
    return data


class NewNodeForm(FlaskForm):
    """Made with prefix="node": it shares its page with the simulation's own form."""

    revision = HiddenField()
    id = StringField(_l("New node id"), validators=[InputRequired(), Length(max=100), SLUG_RULE])
    caller = TextAreaField(_l("What the caller says at the new node"), validators=[InputRequired()],
                           render_kw={"rows": 2})
    end = BooleanField(_l("It is an ending"))


class NewQuizForm(FlaskForm):
    slug = StringField(_l("Quiz slug"), validators=[Optional(), Length(max=100), SLUG_RULE],
                       description=_l("Leave empty to make it from the title. The file name in quizzes/ and "
                                      "the address of the quiz."))
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])


def question_form(kind: str, **kwargs: Any) -> QuestionForm:
    """The form for an item of this type."""
    if kind in ("single_choice", "multiple_response", "ordering"):
        return ChoiceQuestionForm(kind=kind, **kwargs)
    return {"true_false": TrueFalseForm, "call_simulation": SimulationForm}[kind](**kwargs)

