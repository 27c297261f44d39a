"""The quiz editor's call simulation: its title, scenario and first node on the question form;
then each node on a form of its own (NodeForm), reached from the call's tree."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from lms.question_types.editor import SLUG_RULE, TypeEditor, fail, typed_text


class SimulationEditor(TypeEditor):
    """The simulation as a whole; its nodes have a form each (NodeForm)."""

    label, new_heading = _l("Call simulation"), _l("New call simulation")
    template = "call_simulation/editor.html"
    save_label = _l("Save the simulation")
    keys = ("title", "scenario", "start", "nodes")
    has_nodes = True

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    scenario = TextAreaField(_l("Scenario"), validators=[InputRequired()],
                             description=_l("What the agent reads before the call starts."))
    start = SelectField(_l("First node"), validate_choice=False)
    opening = TextAreaField(_l("The caller's first line"), validators=[Optional()],
                            description=_l("Becomes the first node, n1."))

    @staticmethod
    def summary(item: dict) -> str:
        title = item.get("title")
        return title if isinstance(title, str) else ""

    def prepare(self, item: dict | None) -> None:
        nodes = [n.get("id") for n in (item or {}).get("nodes") or [] if isinstance(n, dict)]
        current = (item or {}).get("start")
        self.start.choices = [(n, n) for n in nodes]
        if current and current not in nodes:
            self.start.choices.append((current, _("%(node)s (no such node)", node=current)))

    def load(self, item: dict) -> None:
        self.title.data, self.scenario.data, self.start.data = item.get("title"), item.get("scenario"), item.get("start")

    def dump(self, item: dict) -> dict:
        nodes = item.get("nodes") or [{"id": "n1", "caller": typed_text(self.opening.data)}]
        return {"title": typed_text(self.title.data), "scenario": typed_text(self.scenario.data),
                "start": self.start.data or nodes[0].get("id", "n1"), "nodes": nodes}


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
        return not any(typed_text(field.data) for field in (self.id, self.text, self.feedback))


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
                if not typed_text(getattr(reply, name).data):
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
        new: dict[str, Any] = {"id": self.id.data.strip(), "caller": typed_text(self.caller.data)}
        replies = self.filled()
        if self.end.data:
            new["end"] = True
        elif replies or "choices" in node:
            new["choices"] = [_reply_data(r) for r in replies]
        return {**new, **{k: v for k, v in node.items() if k not in ("id", "caller", "end", "choices")}}


def _reply_data(reply: ReplyForm) -> dict:
    """A reply as the content format writes it; `critical` and `discloses` only when set."""
    data: dict[str, Any] = {"id": reply.id.data.strip(), "text": typed_text(reply.text.data),
                            "feedback": typed_text(reply.feedback.data), "score": int(reply.score.data)}
    if typed_text(reply.critical.data):
        data["critical"] = typed_text(reply.critical.data)
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
