"""The home page each role lands on, and a health check for load balancers."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, select, text

from lms.accounts.models import Organisation, Role, User
from lms.certification import reports, services
from lms.certification.models import Award
from lms.clock import now
from lms.extensions import db
from lms.policy import restrict_users

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.role is Role.AGENT:
        return _agent_home()
    # Counts the person is allowed to see, by organisation: one grouped query.
    query = restrict_users(current_user, select(Organisation.name, func.count(User.id))
                           .join(User, User.organisation_id == Organisation.id)
                           .where(User.role == Role.AGENT, User.active.is_(True)))
    people = db.session.execute(query.group_by(Organisation.name).order_by(Organisation.name)).all()
    return render_template("main/index.html", people=people)


def _agent_home():
    """What I must do next: each programme with its status, due date, progress and next step."""
    rows = db.session.execute(reports.status_rows(current_user, reports.Filters(user_id=current_user.id), now())).all()
    enrolments = [e for e in db.session.scalars(services.agent_enrolments(current_user.id))
                  if e.programme.current_version is not None]
    by_enrolment = services.requirement_states_for(enrolments)
    todo = []
    for row in rows:
        states = by_enrolment.get(row.enrolment_id, [])
        todo.append({"row": row, "states": states, "next": next((s for s in states if not s.met), None)})
    awards = db.session.scalars(select(Award).where(Award.user_id == current_user.id)
                                .order_by(Award.issued_at.desc())).all()
    return render_template("main/agent_home.html", todo=todo, awards=awards)


@bp.route("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
