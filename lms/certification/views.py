"""Dashboard, CSV export, per-agent history, assignments and revocation."""
from __future__ import annotations

from datetime import datetime, time, timezone

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import Organisation, ProgrammeAvailability, Role, User
from lms.assessment.models import Attempt
from lms.audit.services import record
from lms.audit.subjects import register_reference
from lms.certification import reports, services
from lms.certification.charts import status_chart_svg
from lms.certification.forms import AssignmentForm, DashboardFilterForm, ReissueForm, RevokeForm
from lms.certification.models import Assignment, Award, Enrolment, Programme
from lms.certification.status import Status
from lms.clock import now
from lms.evidence.certificates import certificate_for
from lms.evidence.renderer import RenderError
from lms.evidence.signing import SigningError
from lms.extensions import db
from lms.pagination import paginate_rows
from lms.policy import Permission, audit_scope, can, can_manage_user, can_view_user, restrict_users
from lms.privacy.breaches import unnotified_soon
from lms.privacy.requests import WARN_DAYS, due_soon_count

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
    # Breaches are the register's admins' business: others neither see them nor could act.
    breaches_due = unnotified_soon(at) if can(current_user, Permission.MANAGE_BREACHES) else (0, None)
    requests_due = due_soon_count(at) if can(current_user, Permission.MANAGE_DATA_REQUESTS) else (0, 0)
    group_sort, group_descending = _group_order()
    return render_template("certification/dashboard.html", form=form, page=page, counts=counts, groups=groups,
                           group_sort=group_sort, group_descending=group_descending, filters=filters,
                           statuses=list(Status), at=at, counted_at=counted_at, breaches_due=breaches_due,
                           requests_due=requests_due, request_warn_days=WARN_DAYS)


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
    enrolments = [e for e in db.session.scalars(services.agent_enrolments(person.id))
                  if e.programme.current_version is not None]
    rows = db.session.execute(reports.status_rows(current_user, reports.Filters(user_id=person.id), now())).all()
    awards = db.session.scalars(select(Award).where(Award.user_id == person.id).order_by(Award.issued_at.desc())).all()
    attempts = db.session.scalars(select(Attempt).where(Attempt.user_id == person.id)
                                  .order_by(Attempt.started_at.desc())).all()
    by_enrolment = services.requirement_states_for(enrolments)
    states = {e.programme_id: by_enrolment[e.id] for e in enrolments}
    return render_template("certification/person.html", person=person, rows=rows, awards=awards, attempts=attempts,
                           states=states, revoke_form=RevokeForm(),
                           can_edit_account=can(current_user, Permission.MANAGE_PEOPLE) and can_manage_user(current_user, person),
                           reissue_form=ReissueForm())


@bp.route("/awards/<int:award_id>/revoke", methods=["POST"])
def revoke(award_id: int):
    award = db.get_or_404(Award, award_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for revoking the award."), "error")
    else:
        try:
            services.revoke(current_user, award, form.reason.data)
        except services.CertificationError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The award is revoked. It stays in the agent's history."), "success")
    return redirect(url_for("certification.person", user_id=award.user_id))


@bp.route("/awards/<int:award_id>/reissue", methods=["POST"])
def reissue(award_id: int):
    """A new certificate, with a new code and BASE_URL's address, replacing one that is wrong."""
    award = db.get_or_404(Award, award_id)
    if not ReissueForm().validate_on_submit():
        abort(400)
    try:
        new = services.reissue(current_user, award)
        certificate_for(new, actor=current_user)  # rendered now, so it carries today's BASE_URL
    except services.CertificationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except (RenderError, SigningError) as exc:
        db.session.rollback()
        current_app.logger.error("re-issue of award %s failed: %s", award_id, exc)
        flash(_("The new certificate could not be produced, so nothing changed. Try again in a minute."), "error")
    else:
        db.session.commit()
        flash(_("Re-issued with the new code %(code)s. The old certificate now verifies as revoked (re-issued).",
                code=new.verification_code), "success")
    return redirect(url_for("certification.person", user_id=award.user_id))


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
    listing = select(Assignment).order_by(Assignment.created_at.desc())
    scope = audit_scope(current_user)
    if scope is not None:  # a partner admin: their organisation's assignments and their agents' own
        listing = listing.outerjoin(User, User.id == Assignment.user_id).where(
            (Assignment.organisation_id == scope) | (User.organisation_id == scope))
    return render_template("certification/assignments.html", form=form, assignments=db.session.scalars(listing).all(),
                           no_programmes=not programmes)


def _create_assignment(form: AssignmentForm) -> None:
    programme = next((p for p in _assignable_programmes() if p.id == form.programme_id.data), None)
    if programme is None:
        raise services.CertificationError(_("Choose a programme."))
    user = None
    organisation_id = None
    if form.target.data == "agent":
        email = (form.agent_email.data or "").strip().lower()
        user = db.session.scalar(restrict_users(current_user, select(User).where(User.email == email,
                                                                              User.role == Role.AGENT)))
        if user is None:
            form.agent_email.errors = [*form.agent_email.errors, _("No agent has this e-mail address.")]
            raise services.CertificationError(_("No agent has this e-mail address."))
    else:
        organisation_id = form.organisation_id.data
        if organisation_id is None or organisation_id not in {o.id for o in _organisations()}:
            raise services.CertificationError(_("Choose an organisation."))
    due_at = due_days = None
    if form.due_rule.data == "date":
        if form.due_date.data is None or form.due_date.data <= now().date():
            raise services.CertificationError(_("Choose a due date in the future."))
        due_at = datetime.combine(form.due_date.data, time(23, 59), tzinfo=timezone.utc)
    else:
        due_days = form.due_days.data or 30
    services.assign(current_user, programme, organisation_id=organisation_id, user=user, due_at=due_at,
                    due_days=due_days)
