"""The privacy notice (Arts 13 and 14): public, generated from lms/privacy/processing.py.

Everyone reaches it from the footer. After a person's first sign-in every page offers it
(templates/base.html) until they dismiss the offer, which is remembered on their account.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from lms.clock import now
from lms.extensions import db
from lms.privacy.processing import RIGHTS, article_15_information, controller, purposes, recipients, retention_schedule

bp = Blueprint("privacy_notice", __name__)


@bp.route("/privacy")
def notice():
    config = current_app.config
    return render_template("privacy/notice.html", controller=controller(config), purposes=purposes(config),
                           recipients=recipients(config), retention=retention_schedule(config), rights=RIGHTS,
                           source=article_15_information(config)["source"])


@bp.route("/privacy/seen", methods=["POST"])
def notice_seen():
    """Hide the offer of the notice for good (CSRF-checked like every POST)."""
    if current_user.privacy_notice_seen_at is None:
        current_user.privacy_notice_seen_at = now()
        db.session.commit()
    return redirect(_same_site(request.form.get("next")))


def _same_site(target: str | None) -> str:
    """Back to the page the person was on: a path on this site only, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlsplit(target).netloc:
        return target
    return url_for("main.index")
