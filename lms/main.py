"""The home page each role lands on, and a health check for load balancers."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select, text

from lms.accounts.models import Organisation, Role, User
from lms.extensions import db
from lms.policy import restrict_users

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    people = None
    if current_user.role is not Role.AGENT:
        # Counts the person is allowed to see, by organisation: one grouped query.
        query = restrict_users(current_user, select(Organisation.name, func.count(User.id))
                               .join(User, User.organisation_id == Organisation.id)
                               .where(User.role == Role.AGENT, User.active.is_(True)))
        people = db.session.execute(query.group_by(Organisation.name).order_by(Organisation.name)).all()
    return render_template("main/index.html", people=people)


@bp.route("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
