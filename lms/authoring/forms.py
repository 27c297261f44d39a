"""Forms of the course, lesson, file, publish and upload pages.

Fields a trainer types as lists (key points, references) are one item per line.
Every form carries the draft revision it was based on, so a save on top of
someone else's newer save is a conflict instead of an overwrite.
"""
from __future__ import annotations

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
SLUG_MESSAGE = "Use lowercase letters, digits and hyphens, starting with a letter or digit."
PHASE_CHOICES = list(zip(PHASES, ("Before the call", "During the call", "After the call")))


def lines(text: str | None) -> list[str]:
    """The non-blank lines of a textarea, trimmed: one list item per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _at_least_one_line(form, field) -> None:
    if not lines(field.data):
        raise ValidationError("Write at least one, one per line.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseForm(FlaskForm):
    revision = HiddenField()
    title = StringField("Title", validators=[InputRequired(), Length(max=200)])
    summary = TextAreaField("Summary", validators=[InputRequired(), Length(max=2000)],
                            description="One or two sentences for the catalogue.")
    audience = StringField("Audience", validators=[InputRequired(), Length(max=500)],
                           description="Who it is for, in plain words.")
    estimated_minutes = IntegerField("Estimated minutes", validators=[InputRequired(), NumberRange(1, 600)])
    phases = MultiCheckboxField("Call phases covered", choices=PHASE_CHOICES,
                                validators=[InputRequired(message="Choose at least one phase.")])
    quiz = SelectField("Closing quiz", choices=[], validate_choice=True)
    key_points = TextAreaField("Key points", validators=[_at_least_one_line],
                               description="What an agent must remember from the whole course, one per line.")


class NewCourseForm(CourseForm):
    slug = StringField("Course slug", validators=[InputRequired(), Length(max=100),
                                                  Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
                       description="The folder name and the address of the course; it cannot change later.")


class LessonForm(FlaskForm):
    revision = HiddenField()
    id = StringField("Lesson id", validators=[InputRequired(), Length(max=100), Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
                     description="Stable identity of the lesson across versions, e.g. telling-callers.")
    title = StringField("Title", validators=[InputRequired(), Length(max=200)])
    phase = SelectField("Call phase", choices=PHASE_CHOICES, validators=[InputRequired()])
    minutes = IntegerField("Minutes", validators=[InputRequired(), NumberRange(1, 120)])
    references = TextAreaField("References", validators=[_at_least_one_line],
                               description="One per line, e.g. Art. 13(1). At least one must name an article.")
    key_points = TextAreaField("Key points", validators=[_at_least_one_line],
                               description="Shown in a box at the end of the lesson, one per line.")
    body = TextAreaField("Lesson text (Markdown)", validators=[InputRequired(), Length(max=200_000)],
                         description="Start each section with a '## ' heading and cite an article in it, "
                                     "e.g. (Art. 13(1)). No raw HTML.")


class FileForm(FlaskForm):
    """One draft file as text (the YAML of a programme or quiz, or any course file)."""

    revision = HiddenField()
    text = TextAreaField("File", validators=[InputRequired(), Length(max=500_000)])


class NewProgrammeForm(FlaskForm):
    slug = StringField("Programme slug", validators=[InputRequired(), Length(max=100),
                                                     Regexp(SLUG_PATTERN, message=SLUG_MESSAGE)],
                       description="The file name: programmes/<slug>.yaml.")


class PublishForm(FlaskForm):
    material_change = BooleanField("This is a material change (the law or our procedure changed)")
    required_by = DateField("Holders must recertify by", validators=[Optional()],
                            description="With a material change to a course: every certified agent of a "
                                        "programme that requires it must recertify by this date.")
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)],
                           description="Recorded with the recertification and in the audit log.")


class ImageForm(FlaskForm):
    image = FileField("Image (PNG or JPEG, at most 2 MB)", validators=[FileRequired()])
    alt = StringField("Alternative text", validators=[InputRequired(), Length(max=200)],
                      description="What the image shows, for people who cannot see it.")


class ImportForm(FlaskForm):
    upload = FileField("ZIP of content files, or one quiz or programme YAML file", validators=[FileRequired()])
