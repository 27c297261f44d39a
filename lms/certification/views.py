"""Dashboard, CSV export, per-agent history, assignments and revocation."""
from __future__ import annotations

from datetime import datetime, time, timezone

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Organisation, ProgrammeAvailability, Role, User
from lms.assessment.models import Attempt
from lms.audit.services import record
from lms.audit.subjects import register_reference
from lms.certification import alerts, assignments as assignments_service, reports, services
from lms.certification.charts import status_chart_svg
from lms.certification.forms import (AssignmentDueForm, AssignmentForm, ConfirmRemovalForm, DashboardFilterForm,
                                    ReissueForm, RevokeForm)
from lms.certification.models import Assignment, Award, Enrolment, Programme
from lms.certification.status import Status
from lms.clock import now
from lms.extensions import db
from lms.pagination import paginate_rows
from lms.policy import Permission, audit_scope, can, can_manage_user, can_view_user, restrict_users

bp = Blueprint("certification", __name__)

# Events that name an award (a certificate or badge downloaded, issued) are about its holder: the
# audit log's sentences name them, and their organisation's auditors see the event.
register_reference("award_id", Award.id, Award.user_id)


def _programmes() -> list[Programme]:
    return list(db.session.scalars(select(Programme).where(Programme.archived_at.is_(None)).order_by(Programme.slug)))


def _organisations() -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    scope = audit_scope(current_user)
    return list(db.session.scalars(query if scope is None else query.where(Organisation.id == scope)))


def _teams() -> list[str]:
    """The team names in use among the people the current user may see (the filter's choices)."""
    query = restrict_users(current_user, select(User.team).where(User.team.is_not(None), User.active.is_(True))
                           .distinct())
    return sorted(db.session.scalars(query))


def _filters() -> tuple[DashboardFilterForm, reports.Filters]:
    form = DashboardFilterForm(request.args)
    form.organisation.choices = [("", _("All organisations"))] + [(o.id, o.name) for o in _organisations()]
    form.programme.choices = [("", _("All programmes"))] + [(p.id, p.title) for p in _programmes()]
    form.team.choices = [("", _("All teams"))] + [(team, team) for team in _teams()]
    form.validate()

    def day(value, end=False):
        return datetime.combine(value, time.max if end else time.min, tzinfo=timezone.utc) if value else None

    filters = reports.Filters(
        organisation_id=form.organisation.data, programme_id=form.programme.data,
        status=Status(form.status.data) if form.status.data else None,
        due_after=day(form.due_after.data), due_before=day(form.due_before.data, end=True),
        q=(form.q.data or "").strip(), team=form.team.data or None,
        group="team" if form.group.data == "team" else "organisation", sort=form.sort.data or "due", descending=form.order.data == "desc")
    return form, filters


def _group_order() -> tuple[str, bool]:
    """How the counts table is sorted (?csort=, ?corder=): its chart is drawn in the same order."""
    sort = request.args.get("csort", "group")
    return (sort if sort in reports.GROUP_SORTS else "group"), request.args.get("corder") == "desc"


def _sorted_counts(filters: reports.Filters, at: datetime) -> tuple[reports.Counts, dict[str, dict[str, int]], datetime]:
    """The dashboard's counts, their rows in the table's order, and when they were counted."""
    counts, counted_at = reports.cached_counts(current_user, filters, at)
    return counts, reports.sorted_groups(counts.by_group, *_group_order()), counted_at


@bp.route("/dashboard")
def dashboard():
    form, filters = _filters()
    at = now()
    counts, groups, counted_at = _sorted_counts(filters, at)
    # The counts already know how many rows match: no second COUNT over every enrolment.
    page = paginate_rows(reports.status_rows(current_user, filters, at), request.args.get("page", 1, type=int), 25,
                         total=counts.enrolments)
    group_sort, group_descending = _group_order()
    return render_template("certification/dashboard.html", form=form, page=page, counts=counts, groups=groups,
                           group_sort=group_sort, group_descending=group_descending, filters=filters,
                           statuses=list(Status), at=at, counted_at=counted_at,
                           alerts=alerts.alerts_for(current_user, at))


@bp.route("/dashboard/status.svg")
def chart():
    filters = _filters()[1]
    svg = status_chart_svg(_sorted_counts(filters, now())[1])
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/dashboard.csv")
def export_csv():
    filters = _filters()[1]
    at = now()
    # Built before the commit below: the scope is read from the user now, not while streaming.
    query = reports.status_rows(current_user, filters, at)
    record("export.csv", actor=current_user, what="certification status", filters=request.args.to_dict())
    db.session.commit()
    name = f"certification-status-{at:%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(reports.csv_chunks(query)),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/people/<int:user_id>")
def person(user_id: int):
    person = db.session.get(User, user_id)
    if person is None or not can_view_user(current_user, person):
        abort(404)
    enrolments = [e for e in services.agent_enrolments(person.id)
                  if e.programme.current_version is not None]
    rows = db.session.execute(reports.status_rows(current_user, reports.Filters(user_id=person.id), now())).all()
    awards = db.session.scalars(select(Award).where(Award.user_id == person.id).order_by(Award.issued_at.desc())).all()
    attempts = db.session.scalars(select(Attempt).where(Attempt.user_id == person.id)
                                  .order_by(Attempt.started_at.desc())).all()
    by_enrolment = services.requirement_states_for(enrolments)
    states = {e.programme_id: by_enrolment[e.id] for e in enrolments}
    return render_template("certification/person.html", person=person, rows=rows, awards=awards, attempts=attempts,
                           states=states,
                           can_edit_account=can(current_user, Permission.MANAGE_PEOPLE) and can_manage_user(current_user, person),
                           reissue_form=ReissueForm())


@bp.route("/awards/<int:award_id>/revoke", methods=["GET", "POST"])
def revoke(award_id: int):
    """What revoking this award does, and the reason it asks for; the POST revokes."""
    award = db.session.get(Award, award_id)
    if award is None or not can_view_user(current_user, award.user):
        abort(404)
    person_page = url_for("certification.person", user_id=award.user_id)
    if award.revoked_at is not None:  # revoked in another tab, or by someone else meanwhile
        flash(_("This award is already revoked."), "info")
        return redirect(person_page)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            services.revoke(current_user, award, form.reason.data)
        except services.CertificationError as exc:
            form.reason.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The award is revoked. It stays in the agent's history."), "success")
            return redirect(person_page)
    # Revoking an award the agent's status no longer rests on (an earlier cycle's) changes no status.
    current = db.session.scalar(select(Enrolment.id).where(Enrolment.current_award_id == award.id).limit(1))
    return render_template("certification/revoke_confirm.html", award=award, form=form, current=current is not None)


def _assignable_programmes() -> list[Programme]:
    """Every programme for trainers and admins; for a partner admin, those the client company has
    made available to their organisation (ProgrammeAvailability, set on the organisation's page)."""
    if current_user.role is not Role.PARTNER_ADMIN:
        return _programmes()
    return list(db.session.scalars(
        select(Programme).join(ProgrammeAvailability, ProgrammeAvailability.programme_id == Programme.id)
        .where(Programme.archived_at.is_(None), ProgrammeAvailability.organisation_id == current_user.organisation_id)
        .order_by(Programme.slug)))


@bp.route("/assignments", methods=["GET", "POST"])
def assignments():
    form = AssignmentForm()
    programmes = _assignable_programmes()
    form.programme_id.choices = [(p.id, p.title) for p in programmes]
    form.organisation_id.choices = [("", _("Choose…"))] + [(o.id, o.name) for o in _organisations()]
    if form.validate_on_submit():
        try:
            _create_assignment(form)
        except services.CertificationError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Assigned. Agents see it on their home page now."), "success")
            return redirect(url_for("certification.assignments"))
    # Each row names its programme, organisation or agent: loaded with it, not one query per row.
    listing = assignments_service.visible(current_user).order_by(Assignment.created_at.desc()).options(
        joinedload(Assignment.programme).joinedload(Programme.current_version),
        joinedload(Assignment.organisation), joinedload(Assignment.user))
    return render_template("certification/assignments.html", form=form, assignments=db.session.scalars(listing).all(),
                           no_programmes=not programmes, agents=assignments_service.agent_choices(current_user))


@bp.route("/assignments/people.json")
def assignment_people():
    """The assignment form's picker, for rosters too long to list on the page: up to twenty agents
    the user may assign to whose name or e-mail contains ?q=."""
    people = assignments_service.search_agents(current_user, request.args.get("q", "")[:100])
    response = jsonify(people=[{"value": p.value, "name": p.name, "email": p.email} for p in people])
    response.headers["Cache-Control"] = "no-store"  # names and addresses: not for shared caches
    return response


def _assignment_or_404(assignment_id: int) -> Assignment:
    """An assignment the user may change: any for trainers and admins, a partner admin's own scope's."""
    assignment = db.session.scalar(assignments_service.visible(current_user).where(Assignment.id == assignment_id))
    if assignment is None:
        abort(404)
    return assignment


@bp.route("/assignments/<int:assignment_id>/edit", methods=["GET", "POST"])
def assignment_edit(assignment_id: int):
    """The due rule of an assignment; its enrolments' due dates follow."""
    assignment = _assignment_or_404(assignment_id)
    form = AssignmentDueForm()
    if request.method == "GET":
        form.due_rule.data = "date" if assignment.due_at else "days"
        form.due_days.data = assignment.due_days or form.due_days.default
        form.due_date.data = assignment.due_at.date() if assignment.due_at else None
    elif form.validate_on_submit():
        try:
            due_at, due_days = _due_rule(form)
            moved = assignments_service.change_due(current_user, assignment, due_at=due_at, due_days=due_days)
        except services.CertificationError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(ngettext("The due date is changed for %(num)d agent enrolled through this assignment.",
                           "The due date is changed for the %(num)d agents enrolled through this assignment.",
                           moved), "success")
            return redirect(url_for("certification.assignments"))
    enrolled = db.session.scalar(select(func.count()).select_from(Enrolment)
                                 .where(Enrolment.assignment_id == assignment.id))
    return render_template("certification/assignment_edit.html", assignment=assignment, form=form, enrolled=enrolled)


@bp.route("/assignments/<int:assignment_id>/remove", methods=["GET", "POST"])
def assignment_remove(assignment_id: int):
    """What removing the assignment does; the POST removes it."""
    assignment = _assignment_or_404(assignment_id)
    form = ConfirmRemovalForm()
    if form.validate_on_submit():
        assignments_service.unassign(current_user, assignment)
        db.session.commit()
        flash(_("The assignment is removed. Its agents keep their progress and certificates."), "success")
        return redirect(url_for("certification.assignments"))
    return render_template("certification/assignment_remove.html", assignment=assignment, form=form,
                           removal=assignments_service.removal_preview(assignment))


def _create_assignment(form: AssignmentForm) -> None:
    programme = next((p for p in _assignable_programmes() if p.id == form.programme_id.data), None)
    if programme is None:
        raise services.CertificationError(_("Choose a programme."))
    user = None
    organisation_id = None
    if form.target.data == "agent":
        try:
            user = assignments_service.find_agent(current_user, form.agent_email.data or "")
        except services.CertificationError as exc:
            form.agent_email.errors = [*form.agent_email.errors, str(exc)]
            raise
    else:
        organisation_id = form.organisation_id.data
        if organisation_id is None or organisation_id not in {o.id for o in _organisations()}:
            raise services.CertificationError(_("Choose an organisation."))
    due_at, due_days = _due_rule(form)
    services.assign(current_user, programme, organisation_id=organisation_id, user=user, due_at=due_at,
                    due_days=due_days)


def _due_rule(form: AssignmentForm | AssignmentDueForm) -> tuple[datetime | None, int | None]:
    """(due_at, due_days) from the form's due rule: a date in the future (that day, 23:59 UTC; each
    agent's enrolment ends it where they are), or a number of days (30 when left empty)."""
    if form.due_rule.data != "date":
        return None, form.due_days.data or 30
    if form.due_date.data is None or form.due_date.data <= now().date():
        form.due_date.errors = [*form.due_date.errors, _("Choose a due date in the future.")]
        raise services.CertificationError(_("Choose a due date in the future."))
    return datetime.combine(form.due_date.data, time(23, 59), tzinfo=timezone.utc), None
