"""The programme form: a programme file's settings and requirements as one WTForms form.

The requirements are one list of checkboxes, one per course and quiz a programme may
require, valued "course:<slug>" or "quiz:<slug>"; a ticked quiz takes its minimum score from
a number field of its own. Browsers send ticked boxes in the page's order, so the order of
the ticked values is the order of the requirements in the file. `to_data` writes the fields
in the documented order and keeps the file's own text where the trainer left it unchanged, so
saving an untouched form does not change the content hash.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Field, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.authoring.export import dump_yaml, item_models
from lms.authoring.forms import MultiCheckboxField
from lms.authoring.quiz_yaml import plain
from lms.content import Problem, yaml_lines
from lms.checked_yaml.fields import SLUG
from lms.content.model import REQUIREMENT_KINDS
from lms.content.validate_programmes import DAYS_PER_MONTH
from lms.extensions import db

# The fields of programmes/<slug>.yaml in the order docs/content-format.md gives them.
PROGRAMME_KEYS = ("title", "description", "validity_months", "recertification_window_days", "grace_days",
                  "requirements")
# Content check reports a missing field on the line of the mapping, which is another field's line.
MISSING = re.compile(r"^missing required field '([a-z_]+)'")
# A requirement content check cannot find: the form shows it as not offered, in its own words.
NOT_FOUND = re.compile(r"^requirement \d+: (?:course|quiz) '[^']*' not found")


@dataclass(frozen=True)
class Choice:
    """One course or quiz a programme may name; `available` when it may be required now."""

    kind: str
    slug: str
    title: str | None           # None: no such course or quiz was ever published
    pass_mark: int | None = None  # a quiz's own pass mark, offered as its minimum score
    available: bool = True
    archived: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.slug}"


def available_choices() -> list[Choice]:
    """Every published course and quiz that is not archived: courses first, each kind by title.

    What a programme may require. Trainers and admins read all published content, and these are
    exactly what content check finds beside a programme draft (drafts._context_files): a course
    or quiz that exists only as a draft, or is archived, is not offered.
    """
    found: list[Choice] = []
    for kind in REQUIREMENT_KINDS:
        model = item_models(kind)[0]
        items = db.session.scalars(select(model).where(model.archived_at.is_(None),
                                                       model.current_version_id.is_not(None)))
        rows = []
        for item in items:
            version = item.current_version
            mark = version.spec.get("pass_mark") if kind == "quiz" else None
            rows.append(Choice(kind, item.slug, version.title, mark if isinstance(mark, int) else None))
        found += sorted(rows, key=lambda choice: (choice.title.lower(), choice.slug))
    return found


def unavailable_choice(key: str) -> Choice:
    """A requirement that is not offered: an archived course or quiz by its title, else unknown."""
    kind, _sep, slug = key.partition(":")
    item = None
    if kind in REQUIREMENT_KINDS and SLUG.match(slug):
        model = item_models(kind)[0]
        item = db.session.scalar(select(model).where(model.slug == slug))
    title = item.current_version.title if item is not None and item.current_version is not None else None
    return Choice(kind, slug, title, available=False, archived=item is not None and item.archived_at is not None)


def load_programme(text: str | None) -> dict | None:
    """The programme file as plain data, or None when it is not a YAML mapping (the file editor's job)."""
    try:
        data = yaml_lines.load(text or "")[0]
    except yaml.YAMLError:
        return None
    return plain(data) if isinstance(data, dict) else None


def dump_programme(data: dict) -> str:
    """The programme file's text, written as a published version is exported (export.dump_yaml)."""
    return dump_yaml(data)


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _kept(typed: str, stored: object) -> str:
    """The file's own text when the trainer left it as it was (a folded description ends in a line
    break the textarea does not show), so an untouched field does not change the content hash."""
    return stored if isinstance(stored, str) and stored.strip() == typed else typed


class ProgrammeForm(FlaskForm):
    """A programme draft's file. `programme_form` adds one minimum-score field per offered quiz."""

    revision = HiddenField()
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)],
                        description=_l("The certificate's name, shown to agents and on certificates."))
    description = TextAreaField(_l("Description"), validators=[InputRequired(), Length(max=2000)],
                                description=_l("Who it is for and what it takes, in plain words."),
                                render_kw={"rows": 4})
    validity_months = IntegerField(_l("Valid for (months)"), validators=[InputRequired(), NumberRange(1, 60)],
                                   description=_l("How long a certificate stays valid after it is awarded: "
                                                  "1 to 60 months."))
    recertification_window_days = IntegerField(
        _l("Recertification opens (days before expiry)"), validators=[InputRequired(), NumberRange(0, 365)],
        description=_l("0 to 365, and less than 28 days for each month of validity."))
    grace_days = IntegerField(_l("Grace period (days)"), validators=[Optional(), NumberRange(0, 90)],
                              description=_l("Days after the validity runs out before the certificate counts "
                                             "as expired: 0 to 90. Empty means none."))
    requirements = MultiCheckboxField(_l("Requirements"), choices=[], validate_choice=False,
                                      description=_l("Tick every course an agent must read in full and every "
                                                     "quiz they must pass. Agents see them in this order."))

    choices: dict[str, Choice]  # every offered course and quiz, by key
    others: dict[str, Choice]   # keys posted or in the file that are not offered, as looked up

    def score_field(self, choice: Choice) -> Field | None:
        """The minimum-score field of an offered quiz (None for a course or a quiz not offered)."""
        return self._fields.get(f"min_score-{choice.slug}") if choice.kind == "quiz" else None

    def choice_of(self, key: str) -> Choice:
        """The offered course or quiz with this key, else what the key names (looked up once)."""
        if key in self.choices:
            return self.choices[key]
        if key not in self.others:
            self.others[key] = unavailable_choice(key)
        return self.others[key]

    def refusals(self) -> list[str]:
        """Why each ticked requirement that is not offered cannot be saved."""
        return [_refusal(self.choice_of(key)) for key in self.chosen() if key not in self.choices]

    def chosen(self) -> list[str]:
        """The ticked keys, in order, each once."""
        return list(dict.fromkeys(self.requirements.data or []))

    def rows(self) -> list[tuple[Choice, Field]]:
        """(choice, its checkbox) for the page: the ticked ones in order, then the rest as offered."""
        chosen = self.chosen()
        ordered = [self.choice_of(key) for key in chosen]
        ordered += [choice for key, choice in self.choices.items() if key not in chosen]
        self.requirements.choices = [(choice.key, choice.title or choice.key) for choice in ordered]
        return list(zip(ordered, self.requirements))

    def move(self, order: str) -> None:
        """Move one ticked requirement up or down ("up:quiz:<slug>"): the page changes, the file waits."""
        direction, _sep, key = order.partition(":")
        chosen = self.chosen()
        if key in chosen:
            i = chosen.index(key)
            j = i - 1 if direction == "up" else i + 1
            if 0 <= j < len(chosen):
                chosen[i], chosen[j] = chosen[j], chosen[i]
        self.requirements.data = chosen

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        chosen = self.chosen()
        if not chosen:
            self.requirements.errors = [*self.requirements.errors, _("Choose at least one course or quiz.")]
        self.requirements.errors = [*self.requirements.errors, *self.refusals()]
        for choice in self.choices.values():
            field = self.score_field(choice)
            if field is None:
                continue
            if choice.key not in chosen:
                field.errors = []  # a quiz left unticked: whatever its box holds is not used
            elif not field.errors and (field.data is None or not 1 <= field.data <= 100):
                field.errors = [_("Give the lowest score that counts for “%(title)s”: a whole number from 1 "
                                  "to 100.", title=choice.title)]
        months, days = self.validity_months.data, self.recertification_window_days.data
        if not self.validity_months.errors and not self.recertification_window_days.errors \
                and days >= months * DAYS_PER_MONTH:
            self.recertification_window_days.errors = [*self.recertification_window_days.errors, _(
                "Must be less than %(limit)s days (%(per_month)s days for each month of validity).",
                limit=months * DAYS_PER_MONTH, per_month=DAYS_PER_MONTH)]
        return not any(field.errors for field in self)

    def from_data(self, data: dict) -> None:
        """Fill the form from the programme file's data (what it cannot show, content check reports)."""
        for name in ("title", "description"):
            value = data.get(name)
            getattr(self, name).data = value.strip() if isinstance(value, str) else value
        for name in ("validity_months", "recertification_window_days", "grace_days"):
            getattr(self, name).data = data.get(name)
        for choice in self.choices.values():
            field = self.score_field(choice)
            if field is not None:
                field.data = choice.pass_mark
        chosen = []
        requirements = data.get("requirements")
        for requirement in requirements if isinstance(requirements, list) else []:
            kinds = [kind for kind in REQUIREMENT_KINDS if isinstance(requirement, dict) and kind in requirement]
            if len(kinds) != 1 or not isinstance(requirement[kinds[0]], str):
                continue
            choice = Choice(kinds[0], requirement[kinds[0]], None)
            chosen.append(choice.key)
            field = self.score_field(choice)
            if field is not None:
                field.data = requirement.get("min_score")
        self.requirements.data = chosen

    def to_data(self, stored: dict) -> dict:
        """The file's data from the form: the documented fields in order, then any field the file
        had that the form does not know (content check reports it; the form drops nothing)."""
        data = {"title": _kept(_text(self.title.data), stored.get("title")),
                "description": _kept(_text(self.description.data), stored.get("description")),
                "validity_months": self.validity_months.data,
                "recertification_window_days": self.recertification_window_days.data}
        grace = self.grace_days.data or 0
        if grace or "grace_days" in stored:  # absent and 0 mean the same: keep what the file said
            data["grace_days"] = grace
        requirements = []
        for key in self.chosen():
            choice = self.choices[key]
            field = self.score_field(choice)
            requirements.append({"course": choice.slug} if field is None
                                else {"quiz": choice.slug, "min_score": field.data})
        data["requirements"] = requirements
        data.update({key: value for key, value in stored.items() if key not in PROGRAMME_KEYS})
        return data


def _refusal(choice: Choice) -> str:
    if choice.archived and choice.title:
        return _("“%(title)s” is archived, so a programme cannot require it: untick it.", title=choice.title)
    return _("“%(value)s” is not a published course or quiz you can choose: untick it.", value=choice.key)


def programme_form(choices: list[Choice]) -> ProgrammeForm:
    """The form for these offered courses and quizzes, read from the request when it was posted."""
    scores = {}
    for choice in choices:
        if choice.kind == "quiz":
            help_text = _("The quiz's own pass mark is %(mark)s%%.", mark=choice.pass_mark) \
                if choice.pass_mark is not None else None
            scores[f"min_score-{choice.slug}"] = IntegerField(
                _("Minimum score (%)"), description=help_text, render_kw={"min": 1, "max": 100})
    form = type("ProgrammeFormOfChoices", (ProgrammeForm,), scores)()
    form.choices, form.others = {choice.key: choice for choice in choices}, {}
    return form


def field_problems(text: str, problems: list[Problem]) -> tuple[dict[str, list[str]], list[Problem]]:
    """Content check's problems by the form field they are about (the field a missing-field message
    names, else the top-level key written on or before their line), and those about no field (an
    unknown field, the file as a whole)."""
    try:
        data = yaml_lines.load(text)[0]
    except yaml.YAMLError:
        data = None
    lines = sorted((line, key) for key, line in data.key_lines.items()) if isinstance(data, dict) else []
    by_field: dict[str, list[str]] = {}
    general: list[Problem] = []
    for problem in problems:
        missing = MISSING.match(problem.message)
        key = missing.group(1) if missing else \
            next((key for line, key in reversed(lines) if problem.line and line <= problem.line), None)
        if key in PROGRAMME_KEYS:
            by_field.setdefault(key, []).append(problem.message)
        else:
            general.append(problem)
    return by_field, general


def show_problems(form: ProgrammeForm, text: str, problems: list[Problem]) -> list[Problem]:
    """Put content check's problems of the file `text` beside the form's fields; return those
    about no field. A requirement content check cannot find is one the form shows as not
    offered, so the form's own words replace the file path the check names."""
    by_field, general = field_problems(text, problems)
    for name, messages in by_field.items():
        if name == "requirements":
            messages = [message for message in messages if not NOT_FOUND.match(message)] + form.refusals()
        form[name].errors = [*form[name].errors, *messages]
    return general
