"""The form of the breach register: one for recording a breach and for updating it."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.privacy.breaches import BreachData, BreachStatus

_WHEN = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]  # what browsers send for datetime-local
_TIME_MESSAGE = _l("Give a date and time, for example 2026-01-05 09:30.")
_TEXT = 10_000  # a few pages: enough for the facts, short of a pasted dump


def _when(label: str, description: str, required: bool = False) -> DateTimeLocalField:
    validators = [InputRequired(message=_l("Give the date and time, in UTC."))] if required else [Optional()]
    return DateTimeLocalField(label, format=_WHEN, validators=validators, description=description)


def _text(label: str, description: str = "", required: bool = False, rows: int = 4) -> TextAreaField:
    first = InputRequired(message=_l("This is required.")) if required else Optional()
    return TextAreaField(label, validators=[first, Length(max=_TEXT)], description=description,
                         render_kw={"rows": rows})


def _count(label: str) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, message=_l("Give a number, 0 or more."))],
                        description=_l("Approximate: a whole number, or leave empty if unknown."),
                        render_kw={"inputmode": "numeric", "min": 0})


def _utc(moment: datetime | None) -> datetime | None:
    # The form asks for UTC (each label says so), so the browser's naive value is UTC.
    return moment.replace(tzinfo=timezone.utc) if moment is not None else None


class BreachForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(message=_l("Give the breach a short title.")),
                                                  Length(max=200)],
                        description=_l("A few words to find it again, e.g. “Statement e-mailed to the wrong "
                                       "customer”."))
    aware_at = _when(_l("Became aware (UTC)"),
                     _l("When the company became aware: the 72-hour clock starts here (Art. 33(1))."), required=True)
    occurred_at = _when(_l("Happened (UTC)"), _l("When the breach itself happened, if known."))
    facts = _text(_l("What happened"), _l("The facts: what, how, how it was found (Art. 33(5))."), required=True,
                  rows=6)
    subject_categories = StringField(_l("Categories of people affected"), validators=[Optional(), Length(max=400)],
                                     description=_l("E.g. customers, agents."))
    subjects_approx = _count(_l("Approximate number of people"))
    record_categories = StringField(_l("Categories of personal data"), validators=[Optional(), Length(max=400)],
                                    description=_l("E.g. contact details, bank details, call recordings."))
    records_approx = _count(_l("Approximate number of records"))
    consequences = _text(_l("Likely consequences"), _l("For the people affected (Art. 33(3)(c))."))
    measures = _text(_l("Measures taken or proposed"),
                     _l("To address the breach and limit its effects (Art. 33(3)(d))."))
    authority_notified_at = _when(_l("Supervisory authority notified (UTC)"),
                                  _l("Leave empty until the notice is sent."))
    authority_delay_reason = _text(
        _l("Reasons for a notice after 72 hours"), _l("Required when the notice came more than 72 hours after you "
                                                     "became aware (Art. 33(1))."), rows=3)
    authority_not_required_reason = _text(
        _l("Why the authority need not be notified"), _l("Only when the breach is unlikely to result in a risk to "
                                                        "people (Art. 33(1)); this stops the clock."), rows=3)
    subjects_informed_at = _when(_l("People affected told (UTC)"),
                                 _l("Required when the risk to them is high (Art. 34)."))
    subjects_not_informed_reason = _text(
        _l("Why the people affected were not told"), _l("E.g. the risk is not high, or an Art. 34(3) exception applies "
                                                       "(the data were encrypted)."), rows=3)
    # Shown only when editing: a new breach is open, and a form without the field keeps the default.
    status = SelectField(_l("Status"), choices=[("open", _l("Open")), ("closed", _l("Closed"))],
                         default=BreachStatus.OPEN.value, description=_l("Close the breach once both decisions are "
                                                                         "recorded."))

    def data_for_register(self) -> BreachData:
        """What was typed, as the register's services take it."""
        return BreachData(
            title=self.title.data, aware_at=_utc(self.aware_at.data), facts=self.facts.data,
            occurred_at=_utc(self.occurred_at.data),
            subject_categories=self.subject_categories.data or "", subjects_approx=self.subjects_approx.data,
            record_categories=self.record_categories.data or "", records_approx=self.records_approx.data,
            consequences=self.consequences.data or "", measures=self.measures.data or "",
            authority_notified_at=_utc(self.authority_notified_at.data),
            authority_delay_reason=self.authority_delay_reason.data or "",
            authority_not_required_reason=self.authority_not_required_reason.data or "",
            subjects_informed_at=_utc(self.subjects_informed_at.data),
            subjects_not_informed_reason=self.subjects_not_informed_reason.data or "",
            status=BreachStatus(self.status.data))
