"""CallSafe Academy: GDPR training and certification for contact-centre agents.

`create_app()` wires configuration, extensions, blueprints, the CLI and error
handlers. It does no database I/O and opens no connection: migrations,
content loading and demo data are CLI commands (see the Makefile).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import PROJECT_ROOT, check_production_config, load_config
from lms.session_cookie import SessionInterface
from lms.template_messages import MessageEnvironment


def create_app(config: dict[str, Any] | None = None, profile: str | None = None) -> Flask:
    app = Flask(
        __name__,
        static_folder=str(PROJECT_ROOT / "static"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.session_interface = SessionInterface()
    app.jinja_environment = MessageEnvironment
    app.config.from_object(load_config(profile))
    app.config.update(config or {})
    if app.config["ENV_NAME"] == "production":
        check_production_config(app.config)
    if app.config["PROXY_COUNT"]:
        # Trust exactly that many proxies, so a forged X-Forwarded-For cannot reset rate limits.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    logging.basicConfig(level=logging.INFO)

    _init_extensions(app)
    _register_blueprints(app)

    from lms import errors, headers, navigation, template_links
    from lms.cli import lms_cli
    from lms.policy import enforce_endpoint_rule

    app.before_request(enforce_endpoint_rule)
    errors.register_error_handlers(app)
    headers.install(app)
    template_links.install(app)
    navigation.install(app)
    app.cli.add_command(lms_cli)
    return app


def _init_extensions(app: Flask) -> None:
    from lms import csrf_tokens, database_pool, i18n, read_transactions, sqlite_isolation
    from lms.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        database_pool.install(app, db.engine)
        read_transactions.install(db.engine)
        sqlite_isolation.install(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    csrf_tokens.install(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    from lms.accounts.services import load_session_user

    @login_manager.user_loader
    def load_user(token: str):
        user = load_session_user(token)
        if user is not None:
            user.session_token = token
        return user

    # Import every model so that migrations and create_all see the whole schema.
    import lms.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from lms import main
    from lms.account_pages.views import bp as accounts_bp
    from lms.audit_pages.views import bp as audit_bp
    from lms.authoring.views import bp as authoring_bp
    from lms.assessment.analysis_views import bp as analysis_bp
    from lms.assessment.views import bp as assessment_bp
    from lms.certification.views import bp as certification_bp
    from lms.credentials.views import bp as credentials_bp
    from lms.evidence.branding_views import bp as branding_bp
    from lms.evidence.views import bp as evidence_bp
    from lms.jobs.views import bp as jobs_bp
    from lms.learning.views import bp as learning_bp
    from lms.mfa.views import bp as mfa_bp
    from lms.privacy.breach_views import bp as breaches_bp
    from lms.privacy.access_views import bp as my_data_bp
    from lms.privacy.erasure_views import bp as erasure_bp
    from lms.privacy.requests_views import bp as data_requests_bp
    from lms.privacy.notice_views import bp as privacy_notice_bp
    from lms.privacy.record_views import bp as privacy_record_bp
    from lms.reminders.views import bp as reminders_bp
    from lms.question_types import templates_bp as question_types_bp
    from lms.xapi.views import bp as xapi_bp
    from lms.sso.views import bp as sso_bp
    from lms.roster.views import bp as roster_bp
    from lms.policy import Permission, can

    for blueprint in (main.bp, accounts_bp, audit_bp, learning_bp, assessment_bp, analysis_bp,
                      certification_bp, credentials_bp, reminders_bp, evidence_bp, authoring_bp,
                      branding_bp, jobs_bp, mfa_bp, erasure_bp, data_requests_bp, my_data_bp,
                      privacy_notice_bp, privacy_record_bp, breaches_bp, xapi_bp, sso_bp, roster_bp,
                      question_types_bp):
        app.register_blueprint(blueprint)
    from lms.scim.admin_views import bp as scim_admin_bp
    from lms.scim.views import bp as scim_bp

    app.register_blueprint(scim_bp)
    app.register_blueprint(scim_admin_bp)
    from lms.api.document import install as install_api

    install_api(app)
    from lms.webhooks.views import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    app.jinja_env.globals.update(can=can, Permission=Permission)
