"""The outbox page: every reminder e-mail, newest first (admins only, see policy.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from lms.pagination import paginate
from lms.reminders.models import Message
from lms.reminders.services import MAX_ATTEMPTS

bp = Blueprint("reminders", __name__)


@bp.route("/admin/outbox")
def outbox():
    page = paginate(select(Message).order_by(Message.id.desc()), request.args.get("page", 1, type=int), per_page=50)
    return render_template("reminders/outbox.html", page=page,
                           mail_server=current_app.config.get("MAIL_SERVER", ""), max_attempts=MAX_ATTEMPTS)
