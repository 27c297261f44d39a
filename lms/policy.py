"""Who may do what: the one place that decides access.

Three layers, all here:
- GRANTS: which roles hold each permission.
- ENDPOINTS: the rule every route declares (public, any signed-in user, or a
  permission). `enforce_endpoint_rule` runs before every request, so a view
  cannot forget its check, and tests/test_policy.py fails for any endpoint that
  is missing from this table. The one exception is OWN_ATTEMPT, for the answer
  autosave: its view signs the request in and finds the attempt in one query
  (lms/assessment/ownership.py) and applies the rule with authorise_attempt_owner;
  the policy matrix runs it for every role like the others.
- Record rules: which users an actor may see (an agent only themselves, a
  scoped auditor only their organisation). Views and services call these;
  templates use `can()` to hide what the user may not do. A rule that reads a
  package's own models lives in that package, built on these (which jobs a person
  sees: lms.jobs.services.restrict_jobs), so that policy need not import the
  packages that import it.
"""
from __future__ import annotations

import enum
from typing import Any, Final, NoReturn

from flask import Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, select

from lms.accounts.models import Role, User
from lms.mfa import services as mfa


class Permission(str, enum.Enum):
    READ_CONTENT = "read_content"
    LEARN = "learn"  # record lesson progress and take quizzes
    ANALYSE_QUIZZES = "analyse_quizzes"
    MANAGE_CERTIFICATION = "manage_certification"  # assign programmes, revoke awards
    MANAGE_USERS = "manage_users"
    # Add, edit, deactivate and reactivate people, issue set-password links and reset second
    # factors: admins for everyone, partner admins for their own organisation's agents
    # (record rule: can_manage_user).
    MANAGE_PEOPLE = "manage_people"
    # Assign programmes: trainers and admins any programme to anyone; partner admins only the
    # programmes made available to their organisation, and only to it (lms/certification/views.py).
    ASSIGN_PROGRAMMES = "assign_programmes"
    MANAGE_ORGANISATIONS = "manage_organisations"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_PEOPLE = "view_people"
    AUTHOR_CONTENT = "author_content"  # drafts, publishing, version history, export and import
    EXPORT_EVIDENCE = "export_evidence"  # bulk exports (certificate ZIPs, evidence packs) run as jobs
    MANAGE_BRANDING = "manage_branding"  # what newly rendered certificates look like
    # Replace a certificate by a new award and code (the old one is revoked as "re-issued").
    REISSUE_CERTIFICATES = "reissue_certificates"
    # Erase a person's personal data under a pseudonym (Art. 17), keeping their training evidence.
    ERASE_PERSONAL_DATA = "erase_personal_data"
    # The register of data-subject requests (Arts 12, 15-21) and restricting a person's data.
    MANAGE_DATA_REQUESTS = "manage_data_requests"
    # The record of processing (Art. 30): the controller's own document, for its administrators.
    VIEW_PROCESSING_RECORD = "view_processing_record"
    # The breach register (Art. 33(5)): the controller's incidents and its notification decisions.
    MANAGE_BREACHES = "manage_breaches"
    # Organisations' single sign-on connections: who their IdP may sign in, and with what secret.
    MANAGE_SSO = "manage_sso"
    # Organisations' SCIM tokens, and what their identity provider's groups mean (lms/scim).
    MANAGE_SCIM = "manage_scim"
    # Integrations' API keys (lms/api): create, rotate and revoke them, and see their use.
    MANAGE_API_KEYS = "manage_api_keys"
    # Outgoing webhook endpoints (lms/webhooks): admins any, partner admins their organisation's
    # (record rule: can_manage_webhook).
    MANAGE_WEBHOOKS = "manage_webhooks"


class Access(str, enum.Enum):
    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    # A learner's own attempt, checked by the view in the same statement that signs the request
    # in (lms.assessment.ownership): for the autosave on every answer an agent changes.
    OWN_ATTEMPT = "own_attempt"
    # An organisation's SCIM token (lms/scim/views.py checks the bearer token); the session
    # cookie is never accepted there.
    SCIM_TOKEN = "scim_token"
    # An integration's API key (lms/api/views.py checks the bearer token and its scope); the
    # session cookie is never accepted there.
    API_KEY = "api_key"


PUBLIC: Final = Access.PUBLIC
SIGNED_IN: Final = Access.SIGNED_IN
OWN_ATTEMPT: Final = Access.OWN_ATTEMPT
SCIM_TOKEN: Final = Access.SCIM_TOKEN
API_KEY: Final = Access.API_KEY

ALL_ROLES = frozenset(Role)
GRANTS: Final[dict[Permission, frozenset[Role]]] = {
    Permission.READ_CONTENT: ALL_ROLES,
    # Auditors write nothing, so they neither take quizzes nor record progress.
    Permission.LEARN: frozenset({Role.AGENT, Role.TRAINER, Role.ADMIN}),
    Permission.ANALYSE_QUIZZES: frozenset({Role.TRAINER, Role.ADMIN}),
    Permission.MANAGE_CERTIFICATION: frozenset({Role.TRAINER, Role.ADMIN}),
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.MANAGE_PEOPLE: frozenset({Role.ADMIN, Role.PARTNER_ADMIN}),
    Permission.ASSIGN_PROGRAMMES: frozenset({Role.TRAINER, Role.ADMIN, Role.PARTNER_ADMIN}),
    Permission.MANAGE_ORGANISATIONS: frozenset({Role.ADMIN}),
    # Partner admins: within their organisation (organisation_scope), like a scoped auditor.
    Permission.VIEW_AUDIT_LOG: frozenset({Role.ADMIN, Role.AUDITOR, Role.PARTNER_ADMIN}),
    Permission.VIEW_PEOPLE: frozenset({Role.ADMIN, Role.TRAINER, Role.AUDITOR, Role.PARTNER_ADMIN}),
    Permission.AUTHOR_CONTENT: frozenset({Role.TRAINER, Role.ADMIN}),
    # An export writes only a job row and its files: auditors may export what they may read.
    Permission.EXPORT_EVIDENCE: frozenset({Role.ADMIN, Role.TRAINER, Role.AUDITOR, Role.PARTNER_ADMIN}),
    Permission.MANAGE_BRANDING: frozenset({Role.ADMIN}),
    Permission.REISSUE_CERTIFICATES: frozenset({Role.ADMIN}),
    Permission.ERASE_PERSONAL_DATA: frozenset({Role.ADMIN}),
    Permission.MANAGE_DATA_REQUESTS: frozenset({Role.ADMIN}),
    Permission.VIEW_PROCESSING_RECORD: frozenset({Role.ADMIN}),
    Permission.MANAGE_BREACHES: frozenset({Role.ADMIN}),
    Permission.MANAGE_SSO: frozenset({Role.ADMIN}),
    Permission.MANAGE_SCIM: frozenset({Role.ADMIN}),
    Permission.MANAGE_API_KEYS: frozenset({Role.ADMIN}),
    Permission.MANAGE_WEBHOOKS: frozenset({Role.ADMIN, Role.PARTNER_ADMIN}),
}

ENDPOINTS: Final[dict[str, Access | Permission]] = {
    "static": PUBLIC,
    "main.health": PUBLIC,
    "main.index": SIGNED_IN,
    "accounts.login": PUBLIC,
    "accounts.logout": SIGNED_IN,
    "accounts.set_password": PUBLIC,  # the one-time token is the credential, traded on first GET
    "accounts.reset_password": PUBLIC,  # the same, for a link e-mailed on a reset request
    "accounts.set_password_form": PUBLIC,  # works only for the link this browser opened
    "accounts.forgot_password": PUBLIC,
    "accounts.security": SIGNED_IN,  # one's own password and sessions
    "accounts.change_password": SIGNED_IN,
    "accounts.change_locale": SIGNED_IN,  # one's own language and time zone
    "accounts.choose_language": PUBLIC,  # the sign-in page's language cookie
    "accounts.session_end": SIGNED_IN,  # record rule: only one's own sessions
    "accounts.sessions_end_others": SIGNED_IN,
    "accounts.user_list": Permission.MANAGE_PEOPLE,
    "accounts.user_new": Permission.MANAGE_PEOPLE,
    "accounts.user_edit": Permission.MANAGE_PEOPLE,  # record rule: can_manage_user
    "accounts.user_set_active": Permission.MANAGE_PEOPLE,  # record rule: can_manage_user
    "accounts.user_password_link": Permission.MANAGE_PEOPLE,  # record rule: can_manage_user
    "accounts.organisation_list": Permission.MANAGE_ORGANISATIONS,
    "accounts.organisation_new": Permission.MANAGE_ORGANISATIONS,
    "accounts.organisation_edit": Permission.MANAGE_ORGANISATIONS,
    "audit.event_list": Permission.VIEW_AUDIT_LOG,
    "audit.event_csv": Permission.VIEW_AUDIT_LOG,  # the list's events as CSV, under the same record rule
    "audit.event_detail": Permission.VIEW_AUDIT_LOG,  # record rule: restrict_audit_events (scoped auditors)
    "audit.event_proof": Permission.VIEW_AUDIT_LOG,  # the same record rule
    "erasure.erase_person": Permission.ERASE_PERSONAL_DATA,  # record rule: can_view_user
    "data_requests.request_list": Permission.MANAGE_DATA_REQUESTS,
    "data_requests.request_new": Permission.MANAGE_DATA_REQUESTS,  # record rule: can_view_user
    "data_requests.request_detail": Permission.MANAGE_DATA_REQUESTS,  # the same, for the request's person
    "data_requests.restriction": Permission.MANAGE_DATA_REQUESTS,  # the same
    "data_requests.reissue_request": Permission.LEARN,  # whoever can earn awards, about their own only
    "learning.course_list": Permission.READ_CONTENT,
    "learning.course_detail": Permission.READ_CONTENT,
    "learning.lesson": Permission.READ_CONTENT,
    "learning.asset": Permission.READ_CONTENT,
    "learning.job_aid_list": Permission.READ_CONTENT,
    "learning.job_aid": Permission.READ_CONTENT,
    "learning.country_rules": Permission.READ_CONTENT,
    "learning.country_note": Permission.READ_CONTENT,
    "learning.lesson_complete": Permission.LEARN,
    "assessment.quiz": Permission.LEARN,
    "assessment.start": Permission.LEARN,
    "assessment.question": Permission.LEARN,
    "assessment.autosave": OWN_ATTEMPT,  # Permission.LEARN, and the attempt must be the user's
    "assessment.review": Permission.LEARN,
    "assessment.submit": Permission.LEARN,
    "assessment.result": Permission.LEARN,
    "analysis.quiz_list": Permission.ANALYSE_QUIZZES,
    "analysis.quiz": Permission.ANALYSE_QUIZZES,
    "analysis.chart": Permission.ANALYSE_QUIZZES,
    "analysis.regrade": Permission.ANALYSE_QUIZZES,  # GET: what changes, and the reason; POST regrades
    "authoring.index": Permission.AUTHOR_CONTENT,
    "authoring.course_new": Permission.AUTHOR_CONTENT,
    "authoring.programme_new": Permission.AUTHOR_CONTENT,
    "authoring.programme_edit": Permission.AUTHOR_CONTENT,
    "authoring.import_upload": Permission.AUTHOR_CONTENT,
    "authoring.draft_open": Permission.AUTHOR_CONTENT,
    "authoring.draft_discard": Permission.AUTHOR_CONTENT,  # GET: what is lost; POST discards
    "authoring.file_edit": Permission.AUTHOR_CONTENT,
    "authoring.course_edit": Permission.AUTHOR_CONTENT,
    "authoring.lesson_new": Permission.AUTHOR_CONTENT,
    "authoring.lesson_edit": Permission.AUTHOR_CONTENT,
    "authoring.lesson_delete": Permission.AUTHOR_CONTENT,
    "authoring.lesson_move": Permission.AUTHOR_CONTENT,
    "authoring.markdown_preview": Permission.AUTHOR_CONTENT,
    "authoring.image_upload": Permission.AUTHOR_CONTENT,
    "authoring.draft_image": Permission.AUTHOR_CONTENT,
    "authoring.draft_preview": Permission.AUTHOR_CONTENT,
    "authoring.publish": Permission.AUTHOR_CONTENT,
    "authoring.history": Permission.AUTHOR_CONTENT,
    "authoring.diff": Permission.AUTHOR_CONTENT,
    "authoring.export_zip": Permission.AUTHOR_CONTENT,
    "authoring.translations": Permission.AUTHOR_CONTENT,
    "authoring.translation_edit": Permission.AUTHOR_CONTENT,
    "authoring.translation_download": Permission.AUTHOR_CONTENT,
    "certification.dashboard": Permission.VIEW_PEOPLE,
    "certification.chart": Permission.VIEW_PEOPLE,
    "certification.export_csv": Permission.VIEW_PEOPLE,
    "certification.person": Permission.VIEW_PEOPLE,
    "certification.revoke": Permission.MANAGE_CERTIFICATION,  # record rule: can_view_user (the holder); GET confirms
    "certification.assignments": Permission.ASSIGN_PROGRAMMES,
    # The agents to assign to, as the picker searches them (restrict_users: a partner admin's own).
    "certification.assignment_people": Permission.ASSIGN_PROGRAMMES,
    "certification.assignment_edit": Permission.ASSIGN_PROGRAMMES,  # record rule: restrict_targets
    "certification.assignment_remove": Permission.ASSIGN_PROGRAMMES,  # record rule: restrict_targets
    "evidence.reissue": Permission.REISSUE_CERTIFICATES,  # record rule: the award must not be revoked
    "evidence.certificate_pdf": SIGNED_IN,  # record rule: can_view_award
    "evidence.transcript_pdf": SIGNED_IN,  # record rule: can_view_user (an agent: their own)
    "evidence.verify_start": PUBLIC,
    "evidence.verify": PUBLIC,
    # Open Badges (lms/credentials): the award page and downloads follow can_view_award; the wallet
    # link (an unguessable credential id), the status lists, the JWKS and the DID document are public.
    "credentials.award": SIGNED_IN,  # record rule: can_view_award
    "credentials.badge_json": SIGNED_IN,  # the same
    "credentials.badge_jwt": SIGNED_IN,  # the same
    "credentials.badge_png": SIGNED_IN,  # the same
    "credentials.wallet": PUBLIC,
    "credentials.status_list_credential": PUBLIC,
    "credentials.jwks": PUBLIC,
    "credentials.did_document": PUBLIC,
    # GDPR Art. 15: one's own data, and an admin's download for a person (record rule: can_view_user).
    "my_data.overview": SIGNED_IN,
    "my_data.download": SIGNED_IN,
    "my_data.download_for": Permission.MANAGE_USERS,
    "jobs.export_list": Permission.EXPORT_EVIDENCE,  # record rules: jobs.services' restrict_jobs, exportable organisations
    "jobs.export_detail": Permission.EXPORT_EVIDENCE,
    "jobs.export_status": Permission.EXPORT_EVIDENCE,
    "jobs.export_file": Permission.EXPORT_EVIDENCE,
    "jobs.export_retry": Permission.EXPORT_EVIDENCE,
    "branding.edit": Permission.MANAGE_BRANDING,
    "reminders.outbox": Permission.MANAGE_USERS,  # e-mails name agents and their status: admins only
    # The xAPI outbox holds every agent's learning record (pseudonymous, but answers included): admins only.
    "xapi.outbox_page": Permission.MANAGE_USERS,
    "xapi.retry": Permission.MANAGE_USERS,
    "xapi.export_ndjson": Permission.MANAGE_USERS,
    # The quiz and call-simulation editor, and the preview of a draft quiz.
    "authoring.quiz_new": Permission.AUTHOR_CONTENT,
    "authoring.quiz_edit": Permission.AUTHOR_CONTENT,
    "authoring.quiz_question_new": Permission.AUTHOR_CONTENT,
    "authoring.quiz_question": Permission.AUTHOR_CONTENT,
    "authoring.quiz_question_delete": Permission.AUTHOR_CONTENT,
    "authoring.quiz_question_move": Permission.AUTHOR_CONTENT,
    "authoring.quiz_simulation": Permission.AUTHOR_CONTENT,
    "authoring.quiz_simulation_node": Permission.AUTHOR_CONTENT,
    "authoring.quiz_simulation_node_add": Permission.AUTHOR_CONTENT,
    "authoring.quiz_simulation_node_delete": Permission.AUTHOR_CONTENT,
    "authoring.quiz_preview": Permission.AUTHOR_CONTENT,
    # Second factors (lms/mfa). The second step of sign-in and sign-in with a passkey are public:
    # the pending state in the signed session cookie, or the passkey itself, is the credential.
    "mfa.verify": PUBLIC,
    "mfa.passkey_verify_options": PUBLIC,
    "mfa.passkey_verify": PUBLIC,
    "mfa.passkey_sign_in_options": PUBLIC,
    "mfa.passkey_sign_in": PUBLIC,
    # Each person's own factors: the views act on current_user only.
    "mfa.overview": SIGNED_IN,
    "mfa.totp_enrol": SIGNED_IN,
    "mfa.totp_remove": SIGNED_IN,
    "mfa.recovery_codes": SIGNED_IN,
    "mfa.passkey_register_options": SIGNED_IN,
    "mfa.passkey_register": SIGNED_IN,
    "mfa.passkey_remove": SIGNED_IN,  # record rule: the passkey must be the user's (else 404)
    "accounts.second_factors_reset": Permission.MANAGE_PEOPLE,  # someone who lost every factor (can_manage_user)
    # The privacy notice is for everyone, signed in or not (Arts 13 and 14); hiding its offer acts
    # on current_user only. The record of processing (Art. 30) is the controller's, for admins.
    "privacy_notice.notice": PUBLIC,
    "privacy_notice.notice_seen": SIGNED_IN,
    "privacy_record.index": Permission.VIEW_PROCESSING_RECORD,
    "privacy_record.record_csv_download": Permission.VIEW_PROCESSING_RECORD,
    "privacy_record.record_pdf_download": Permission.VIEW_PROCESSING_RECORD,
    "breaches.breach_list": Permission.MANAGE_BREACHES,
    "breaches.breach_new": Permission.MANAGE_BREACHES,
    "breaches.breach_edit": Permission.MANAGE_BREACHES,
    # Single sign-on (lms/sso). The IdP's answer is public: its state, in this browser's signed
    # session, and the id_token it leads to are the credential. Connections are admins' for now.
    "sso.callback": PUBLIC,
    "sso.signed_out": PUBLIC,
    "sso.connection_list": Permission.MANAGE_SSO,
    "sso.connection_new": Permission.MANAGE_SSO,
    "sso.connection_edit": Permission.MANAGE_SSO,
    "sso.connection_delete": Permission.MANAGE_SSO,
    # SCIM provisioning (lms/scim): the bearer token is the credential, and limits every call to its
    # organisation's agents and trainers. Tokens and group meanings are admins', per organisation.
    "scim.user_list": SCIM_TOKEN,
    "scim.user_create": SCIM_TOKEN,
    "scim.user": SCIM_TOKEN,
    "scim.user_replace": SCIM_TOKEN,
    "scim.user_patch": SCIM_TOKEN,
    "scim.user_delete": SCIM_TOKEN,
    "scim.group_list": SCIM_TOKEN,
    "scim.group_create": SCIM_TOKEN,
    "scim.group": SCIM_TOKEN,
    "scim.group_replace": SCIM_TOKEN,
    "scim.group_patch": SCIM_TOKEN,
    "scim.group_delete": SCIM_TOKEN,
    "scim.service_provider_config": SCIM_TOKEN,
    "scim.resource_types": SCIM_TOKEN,
    "scim.resource_type": SCIM_TOKEN,
    "scim.schemas": SCIM_TOKEN,
    "scim.schema": SCIM_TOKEN,
    "scim_admin.organisation_scim": Permission.MANAGE_SCIM,
    "scim_admin.token_revoke": Permission.MANAGE_SCIM,
    "scim_admin.group_mapping": Permission.MANAGE_SCIM,
    # The clearance API (lms/api): a bearer API key with the endpoint's scope, limited to the key's
    # organisation; its OpenAPI document and docs page describe it and are public.
    "api_v1.agent_clearance": API_KEY,
    "api_v1.clearance_batch": API_KEY,
    "api_v1.agent_list": API_KEY,
    "api_v1.award_list": API_KEY,
    "api_v1.evidence_pack_list": API_KEY,
    "api_docs.openapi_json": PUBLIC,
    "api_docs.docs": PUBLIC,
    "api_keys.key_list": Permission.MANAGE_API_KEYS,
    "api_keys.key_new": Permission.MANAGE_API_KEYS,
    "api_keys.key_rotate": Permission.MANAGE_API_KEYS,
    "api_keys.key_revoke": Permission.MANAGE_API_KEYS,
    # Webhook endpoints (lms/webhooks): record rule can_manage_webhook (a partner admin: their own
    # organisation's endpoints only; others are a 404).
    "webhooks.endpoint_list": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_new": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_detail": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_edit": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_rotate": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_delete": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_state": Permission.MANAGE_WEBHOOKS,
    "webhooks.endpoint_test": Permission.MANAGE_WEBHOOKS,
    "webhooks.delivery_retry": Permission.MANAGE_WEBHOOKS,
    # CSV roster import (lms/roster): partner admins only into their own organisation, and only agents
    # (checked per row by lms/roster/services.py); an upload is its uploader's (and admins').
    "roster.upload": Permission.MANAGE_PEOPLE,
    "roster.preview": Permission.MANAGE_PEOPLE,
    "roster.preview_csv": Permission.MANAGE_PEOPLE,
    "roster.apply": Permission.MANAGE_PEOPLE,
    "roster.template": Permission.MANAGE_PEOPLE,
}

# Reachable by a signed-in person whose role requires a second factor that their session has
# not passed: the pages that let them pass or enrol one (every "mfa." endpoint), and signing out.
# Static files and the health check are PUBLIC, so the hook never gets that far for them.
MFA_EXEMPT: Final = frozenset({"accounts.logout"})


def can(user: User | None, permission: Permission) -> bool:
    """True when the user is signed in, active and their role holds the permission."""
    return bool(user is not None and user.is_authenticated and user.active
                and user.role in GRANTS[permission])


def enforce_endpoint_rule():
    """before_request hook: apply the endpoint's declared rule (deny when none is declared)."""
    if request.endpoint is None:  # no route matched: let the 404 handler answer
        return None
    rule = ENDPOINTS.get(request.endpoint)
    if rule is SCIM_TOKEN:  # lms/scim/views.py authenticates the bearer token before its views
        return None
    # OWN_ATTEMPT: the view calls authorise_attempt_owner; API_KEY: the API's own hook authenticates.
    if rule is PUBLIC or rule is OWN_ATTEMPT or rule is API_KEY:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    if request.endpoint not in MFA_EXEMPT and not request.endpoint.startswith("mfa."):
        second_step = _second_factor_redirect(current_user)
        if second_step is not None:
            return second_step
    if rule is SIGNED_IN or (isinstance(rule, Permission) and can(current_user, rule)):
        return None
    _deny()


def _second_factor_redirect(user: User) -> Response | None:
    """When the user's role requires a second factor (MFA_REQUIRED_ROLES, or their organisation's
    setting) and this session has passed none: to enrol one, or to pass the one they have.

    For everyone else it costs a set lookup against settings each worker keeps in memory
    (lms.mfa.services.mfa_required); the session's row is read only when MFA is required.
    """
    if not mfa.mfa_required(user.role, user.organisation_id) or mfa.session_second_factor() is not None:
        return None
    if mfa.has_factor(user):
        return redirect(url_for("mfa.verify", next=request.full_path.rstrip("?")))
    return redirect(url_for("mfa.overview"))


def _deny() -> NoReturn:
    """403. The policy only answers: the 403 handler (lms/errors.py) records who was refused what."""
    abort(403)


# ---- record rules -------------------------------------------------------------

def audit_scope(user: User) -> int | None:
    """The one organisation whose records the user may read, or None for company-wide.

    A scoped auditor's scope, and a partner admin's own organisation: every read rule below
    (people, audit events, attempts, exports, the dashboard's organisations) follows it.
    """
    if user.role is Role.PARTNER_ADMIN:
        return user.organisation_id
    return user.scope_organisation_id if user.role is Role.AUDITOR else None


def can_manage_user(actor: User, user: User) -> bool:
    """Whom the actor may change (MANAGE_PEOPLE): admins anyone; a partner admin only the agents
    of their own organisation, never themselves, a peer or anyone elsewhere."""
    if actor.role is Role.ADMIN:
        return True
    return (actor.role is Role.PARTNER_ADMIN and user.role is Role.AGENT
            and user.organisation_id == actor.organisation_id)


def restrict_managed_users(actor: User, query: Select) -> Select:
    """Limit a SELECT over User to the people the actor may change (the rule of can_manage_user)."""
    if actor.role is Role.ADMIN:
        return query
    if actor.role is Role.PARTNER_ADMIN:
        return query.where(User.organisation_id == actor.organisation_id, User.role == Role.AGENT)
    return query.where(false())


def restrict_users(actor: User, query: Select) -> Select:
    """Limit a SELECT over User to the people the actor may see."""
    if actor.role in (Role.ADMIN, Role.TRAINER):
        return query
    if actor.role in (Role.AUDITOR, Role.PARTNER_ADMIN):
        scope = audit_scope(actor)
        return query if scope is None else query.where(User.organisation_id == scope)
    if actor.role is Role.AGENT:
        return query.where(User.id == actor.id)
    return query.where(false())


def restrict_targets(actor: User, query: Select, organisation_id: ColumnElement, user_id: ColumnElement) -> Select:
    """Limit a SELECT over rows aimed at a whole organisation or at one person (an assignment, by its
    `organisation_id` and `user_id` columns) to those within the actor's scope: every one for
    company-wide staff; for a partner admin, their organisation's and its people's own."""
    scope = audit_scope(actor)
    if scope is None:
        return query
    return query.where((organisation_id == scope) | user_id.in_(select(User.id).where(User.organisation_id == scope)))


def can_view_user(actor: User, user: User) -> bool:
    """Record-level check for one person: the same rule as restrict_users."""
    if actor.id == user.id or actor.role in (Role.ADMIN, Role.TRAINER):
        return True
    if actor.role in (Role.AUDITOR, Role.PARTNER_ADMIN):
        scope = audit_scope(actor)
        return scope is None or user.organisation_id == scope
    return False


def restrict_audit_events(actor: User, query: Select) -> Select:
    """Scoped auditors and partner admins see only events about their organisation: done by its
    people, done to them or their records (an admin downloading an agent's certificate), or
    naming the organisation (lms.audit.subjects.about_organisation)."""
    from lms.audit.subjects import about_organisation

    scope = audit_scope(actor)
    if actor.role is Role.ADMIN or scope is None:
        return query
    return query.where(about_organisation(scope))


def authorise_attempt_owner(row: Any | None) -> None:
    """Apply OWN_ATTEMPT to the first row of lms.assessment.ownership.attempt_owner_query, as the
    hook does other rules.

    The row may be SQLAlchemy's or a namedtuple straight from the driver (the autosave's),
    with the role as a Role or as its stored string.

    401 without a live session (the caller wants JSON, so no redirect to the sign-in page),
    403 for a role that does not learn (audited), 404 for an attempt that is not the user's.
    401 too when the role requires a second factor that the session has not passed: the hook's
    MFA rule, from the row's session_second_factor and session_organisation_id, at the cost of
    two columns already in the joined rows and a lookup in the worker's copy of the settings.
    """
    if row is None:
        abort(401)
    if Role(row.session_role) not in GRANTS[Permission.LEARN]:
        _deny()
    if row.session_second_factor is None:
        if mfa.mfa_required(row.session_role, row.session_organisation_id):
            abort(401)
    if row.owned_attempt_id is None:
        abort(404)


def restrict_attempts(actor: User, query: Select) -> Select:
    """Limit a SELECT that joins Attempt to User to the attempts the actor may analyse."""
    scope = audit_scope(actor)
    return query if scope is None else query.where(User.organisation_id == scope)


def can_view_award(actor: User, award) -> bool:
    """An award's certificate: its holder, and staff who may see the holder (auditors in scope)."""
    if actor.id == award.user_id:
        return True
    return can(actor, Permission.VIEW_PEOPLE) and can_view_user(actor, award.user)


def can_manage_webhook(actor: User, organisation_id: int | None) -> bool:
    """Webhook endpoints about an organisation (None: every one): admins any; a partner admin only
    their own organisation's."""
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.PARTNER_ADMIN and organisation_id is not None and organisation_id == actor.organisation_id
