"""The upload form and the apply form of the roster import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField
from wtforms.validators import Optional


class UploadForm(FlaskForm):
    file = FileField(_l("Roster file (CSV)"), validators=[FileRequired(_l("Choose a CSV file to upload."))])
    full_roster = BooleanField(
        _l("This is a full roster"),
        description=_l("Everyone who should have an account is in the file: people of its organisations who are "
                       "not in it are deactivated (you confirm how many before anything changes)."))


class ApplyForm(FlaskForm):
    valid_rows_only = BooleanField(_l("Apply the valid rows and skip the rows with errors"))
    confirm_leavers = BooleanField(_l("Deactivate the people who are not in the file"))
    # What the admin saw: the job refuses if the file now means something else.
    leavers_seen = IntegerField(validators=[Optional()])
