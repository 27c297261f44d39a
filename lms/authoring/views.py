"""Authoring pages under /authoring: drafts, the course and lesson editor, publishing, history.

The quiz and simulation editor (lms/authoring/quiz_editor.py) registers its routes on this blueprint.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("authoring", __name__, url_prefix="/authoring")
