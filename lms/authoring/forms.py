"""Forms of the course, lesson, file, publish and upload pages.

Fields a trainer types as lists (key points, references) are one item per line.
Every form carries the draft revision it was based on, so a save on top of
someone else's newer save is a conflict instead of an overwrite.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from lms.content.model import PHASES

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
SLUG_MESSAGE = _l("Use lowercase letters, digits and hyphens, starting with a letter or digit.")
PHASE_CHOICES = list(zip(PHASES, (_l("Before the call"), _l("During the call"), _l("After the call"))))


def slug_from(title: str | None) -> str:
    """An address name made from a title ("Card payments: 2026" gives card-payments-2026); empty
    when the title has no Latin letters or digits, and the trainer then chooses one under Advanced."""
    ascii_text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].rstrip("-")


def slug_or_error(form) -> str | None:
    """The slug a "new" form gives, or made from its title; None (the error on the slug field,
    shown under Advanced) when the title gives none."""
    slug = form.slug.data or slug_from(form.title.data)
    if not slug:
        form.slug.errors = [*form.slug.errors,
                            _l("The title has no Latin letters or digits to make the address from: give one here.")]
        return None
    return slug


def lines(text: str | None) -> list[str]:
    """The non-blank lines of a textarea, trimmed: one list item per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _at_least_one_line(form, field) -> None:
    if not lines(field.data):
        raise ValidationError(_l("Write at least one, one per line."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseForm(FlaskForm):
    revision = HiddenField()
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[InputRequired(), Length(max=2000)],
                            description=_l("One or two sentences for the catalogue."))
    audience = StringField(_l("Audience"), validators=[InputRequired(), Length(max=500)],
                           description=_l("Who it is for, in plain words."))
    estimated_minutes = IntegerField(_l("Estimated minutes"), validators=[InputRequired(), NumberRange(1, 600)])
    phases = MultiCheckboxField(_l("Call phases covered"), choices=PHASE_CHOICES,
                                validators=[InputRequired(message=_l("Choose at least one phase."))])
    quiz = SelectField(_l("Closing quiz"), choices=[], validate_choice=True)
    key_points = TextAreaField(_l("Key points"), validators=[_at_least_one_line],
                               description=_l("What an agent must remember from the whole course, one per line."))


class NewCourseForm(CourseForm):
    # Made from the title unless the trainer gives one (under Advanced): trainers need not know it.
    slug = StringField(_l("Course slug"), validators=[Optional(), Length(max=100),
                                                  Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
                       description=_l("Leave empty to make it from the title. The folder name and the "
                                      "address of the course; it cannot change later."))


class LessonForm(FlaskForm):
    revision = HiddenField()
    # Made from the title for a new lesson, kept as it was for an existing one, unless given (Advanced).
    id = StringField(_l("Lesson id"), validators=[Optional(), Length(max=100), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
                     description=_l("Leave empty to make it from the title. Stable identity of the lesson "
                                    "across versions, e.g. telling-callers."))
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    phase = SelectField(_l("Call phase"), choices=PHASE_CHOICES, validators=[InputRequired()])
    minutes = IntegerField(_l("Minutes"), validators=[InputRequired(), NumberRange(1, 120)])
    references = TextAreaField(_l("References"), validators=[_at_least_one_line],
                               description=_l("One per line, e.g. Art. 13(1). At least one must name an article."))
    key_points = TextAreaField(_l("Key points"), validators=[_at_least_one_line],
                               description=_l("Shown in a box at the end of the lesson, one per line."))
    body = TextAreaField(_l("Lesson text (Markdown)"), validators=[InputRequired(), Length(max=200_000)],
                         description=_l("Start each section with a '## ' heading and cite an article in it, "
                                        "e.g. (Art. 13(1)). No raw HTML."))


class FileForm(FlaskForm):
    """One draft file as text (the YAML of a programme or quiz, or any course file)."""

    revision = HiddenField()
    text = TextAreaField(_l("File"), validators=[InputRequired(), Length(max=500_000)])


class NewProgrammeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    slug = StringField(_l("Programme slug"), validators=[Optional(), Length(max=100),
                                                     Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
                       description=_l("Leave empty to make it from the title. The file name: "
                                      "programmes/<slug>.yaml."))


class PublishForm(FlaskForm):
    material_change = BooleanField(_l("This is a material change (the law or our procedure changed)"))
    required_by = DateField(_l("Holders must recertify by"), validators=[Optional()],
                            description=_l("With a material change to a course: every certified agent of a "
                                           "programme that requires it must recertify by this date."))
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)],
                           description=_l("Recorded with the recertification and in the audit log."))


class ImageForm(FlaskForm):
    image = FileField(_l("Image (PNG or JPEG, at most 2 MB)"), validators=[FileRequired()])
    alt = StringField(_l("Alternative text"), validators=[InputRequired(), Length(max=200)],
                      description=_l("What the image shows, for people who cannot see it."))


class ImportForm(FlaskForm):
    upload = FileField(_l("ZIP of content files, or one quiz or programme YAML file"), validators=[FileRequired()])


class DiscardForm(FlaskForm):
    """No fields: the CSRF token, posted from the page that says what discarding a draft loses."""
