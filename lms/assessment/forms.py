"""The trainer's regrade confirmation (the agent's quiz pages post plain forms of their own)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.form_fields import stripped


class RegradeForm(FlaskForm):
    # The audit log keeps the reason for good (it is in the hashed body of the event, which
    # erasure cannot touch), hence the hint to leave people's names out.
    reason = TextAreaField(_l("Reason for regrading"), filters=[stripped],
                           validators=[DataRequired(_l("Give the reason for regrading.")), Length(max=1000)],
                           description=_l("Recorded in the audit log for good, with the attempts that change. Say what "
                                          "was wrong with the key; leave out agents' names."))
    # The version the trainer saw the changes for: a version published in between is a new question.
    version = HiddenField()
