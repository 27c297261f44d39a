"""Admin pages for webhook endpoints: list with health, create (secret shown once), detail with the
delivery log, change, rotate, disable/enable, resume, delete, send a test event, retry a delivery.

Partner admins see and manage their own organisation's endpoints only (policy.can_manage_webhook);
any other endpoint is a 404 to them, as if it did not exist.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import Organisation, Role
from lms.extensions import db
from lms.pagination import paginate
from lms.policy import can_manage_webhook
from lms.webhooks import endpoints
from lms.webhooks import events as _events  # noqa: F401  (connects the subscribers that fill the outbox)
from lms.webhooks.forms import ConfirmForm, EndpointForm, StateForm
from lms.webhooks.models import EVENT_TYPES, DeliveryState, WebhookDelivery, WebhookEndpoint
from lms.webhooks.sender import start_sender
from lms.webhooks.targets import TargetError

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

EVERY_ORGANISATION = 0


@bp.before_app_request
def _start_sender() -> None:
    # The first request of each web process starts its webhook run (JOBS_RUNNER=thread; a lookup afterwards).
    start_sender(current_app._get_current_object())


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not can_manage_webhook(current_user, endpoint.organisation_id):
        abort(404)
    return endpoint


def _organisation_choices(form: EndpointForm) -> None:
    if current_user.role is Role.ADMIN:
        organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
        form.organisation_id.choices = ([(EVERY_ORGANISATION, _("Every organisation"))]
                                        + [(o.id, o.name) for o in organisations])
    else:  # a partner admin: their own organisation, and nothing else to choose
        own = db.session.get(Organisation, current_user.organisation_id)
        form.organisation_id.choices = [(own.id, own.name)]


@bp.route("/")
def endpoint_list():
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.description, WebhookEndpoint.id)
    if current_user.role is not Role.ADMIN:
        query = query.where(WebhookEndpoint.organisation_id == current_user.organisation_id)
    return render_template("webhooks/endpoint_list.html", endpoints=db.session.scalars(query).all())


@bp.route("/new", methods=["GET", "POST"])
def endpoint_new():
    form = EndpointForm()
    _organisation_choices(form)
    if form.validate_on_submit():
        organisation_id = form.organisation_id.data or None
        if not can_manage_webhook(current_user, organisation_id):
            abort(403)
        try:
            endpoint, secret = endpoints.create_endpoint(
                current_user, form.url.data, form.description.data, form.event_types.data,
                db.session.get(Organisation, organisation_id) if organisation_id else None)
        except TargetError as exc:
            form.url.errors.append(str(exc))
        else:
            db.session.commit()
            return render_template("webhooks/secret.html", endpoint=endpoint, secret=secret, rotated=False)
    return render_template("webhooks/endpoint_form.html", form=form, endpoint=None)


@bp.route("/<int:endpoint_id>")
def endpoint_detail(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    deliveries = paginate(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                          .order_by(WebhookDelivery.id.desc()), request.args.get("page", 1, type=int), per_page=50)
    return render_template("webhooks/endpoint_detail.html", endpoint=endpoint, deliveries=deliveries,
                           event_types=EVENT_TYPES, confirm_form=ConfirmForm(), state_form=StateForm(),
                           failed=DeliveryState.FAILED)


@bp.route("/<int:endpoint_id>/edit", methods=["GET", "POST"])
def endpoint_edit(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = EndpointForm(obj=endpoint) if request.method == "GET" else EndpointForm()
    if request.method == "GET":
        form.event_types.data = endpoint.event_type_list
    del form.organisation_id  # who an endpoint hears about is fixed: make another for another organisation
    if form.validate_on_submit():
        try:
            endpoints.update_endpoint(current_user, endpoint, form.url.data, form.description.data,
                                      form.event_types.data)
        except TargetError as exc:
            form.url.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Endpoint saved."), "success")
            return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))
    return render_template("webhooks/endpoint_form.html", form=form, endpoint=endpoint)


@bp.route("/<int:endpoint_id>/rotate", methods=["GET", "POST"])
def endpoint_rotate(endpoint_id: int):
    endpoint, form = _endpoint(endpoint_id), ConfirmForm()
    if form.validate_on_submit():
        secret = endpoints.rotate_secret(current_user, endpoint)
        db.session.commit()
        return render_template("webhooks/secret.html", endpoint=endpoint, secret=secret, rotated=True)
    return render_template("webhooks/confirm.html", endpoint=endpoint, form=form, action="rotate")


@bp.route("/<int:endpoint_id>/delete", methods=["GET", "POST"])
def endpoint_delete(endpoint_id: int):
    endpoint, form = _endpoint(endpoint_id), ConfirmForm()
    if form.validate_on_submit():
        endpoints.delete_endpoint(current_user, endpoint)
        db.session.commit()
        flash(_("Endpoint deleted, with its delivery log."), "success")
        return redirect(url_for("webhooks.endpoint_list"))
    return render_template("webhooks/confirm.html", endpoint=endpoint, form=form, action="delete")


@bp.route("/<int:endpoint_id>/state", methods=["POST"])
def endpoint_state(endpoint_id: int):
    endpoint, form = _endpoint(endpoint_id), StateForm()
    if not form.validate_on_submit():
        abort(400)
    if form.action.data == "resume":
        endpoints.resume(current_user, endpoint)
        message = _("Resumed: waiting deliveries go at the next run, in order.")
    else:
        endpoints.set_disabled(current_user, endpoint, form.action.data == "disable")
        message = _("Disabled: no events are queued for it.") if endpoint.disabled_at else _("Enabled.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/test", methods=["POST"])
def endpoint_test(endpoint_id: int):
    endpoint, form = _endpoint(endpoint_id), ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    endpoints.send_test(current_user, endpoint)
    db.session.commit()
    flash(_("Test event queued: the next delivery run sends it (see the log below)."), "success")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/retry", methods=["POST"])
def delivery_retry(endpoint_id: int, delivery_id: int):
    endpoint, form = _endpoint(endpoint_id), ConfirmForm()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    if endpoints.retry_delivery(current_user, delivery):
        db.session.commit()
        flash(_("Queued again: the next delivery run sends it."), "success")
    else:
        flash(_("Nothing to retry: the delivery is no longer failed."), "info")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))
