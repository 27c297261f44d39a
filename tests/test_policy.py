"""Every route declares a rule, and the rules hold for every role."""
from __future__ import annotations

import pytest
from flask import Flask

from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import OrganisationKind, Role
from lms.assessment.services import start_attempt
from lms.evidence.signing import ensure_dev_key
from lms.learning.models import Quiz
from lms.learning.sync import load_content
from lms.extensions import db
from lms.policy import ENDPOINTS, restrict_users
from tests import factories
from tests.conftest import login

FIXTURE = Path(__file__).resolve().parent / "content" / "fixtures" / "valid"
ROLES = [Role.AGENT, Role.TRAINER, Role.AUDITOR, Role.ADMIN, Role.PARTNER_ADMIN]
EVERYONE = set(ROLES)
LEARNERS = {Role.AGENT, Role.TRAINER, Role.ADMIN}  # auditors write nothing
AUTHORS = {Role.TRAINER, Role.ADMIN}  # agents, auditors and partner admins reach no authoring page or action
PEOPLE_MANAGERS = {Role.ADMIN, Role.PARTNER_ADMIN}  # partner admins: then the record rule (their agents)
READERS = {Role.TRAINER, Role.AUDITOR, Role.ADMIN, Role.PARTNER_ADMIN}  # scoped ones within their organisation
# What each endpoint should allow: stated here independently of lms/policy.py, so a
# change to the policy that widens access fails this test until someone means it.
EXPECTED: dict[str, set[Role] | str] = {
    "static": "public",
    "main.health": "public",
    "accounts.login": "public",
    "accounts.set_password": "public",
    "accounts.reset_password": "public",
    "accounts.set_password_form": "public",
    "accounts.forgot_password": "public",
    "accounts.security": EVERYONE,
    "accounts.change_password": EVERYONE,
    "accounts.change_locale": EVERYONE,
    "accounts.choose_language": "public",
    "accounts.session_end": EVERYONE,
    "accounts.sessions_end_others": EVERYONE,
    "main.index": EVERYONE,
    "accounts.logout": EVERYONE,
    "accounts.user_list": PEOPLE_MANAGERS,
    "accounts.user_new": PEOPLE_MANAGERS,
    "accounts.user_edit": PEOPLE_MANAGERS,
    "accounts.user_set_active": PEOPLE_MANAGERS,
    "accounts.user_password_link": PEOPLE_MANAGERS,
    "accounts.organisation_list": {Role.ADMIN},
    "accounts.organisation_new": {Role.ADMIN},
    "accounts.organisation_edit": {Role.ADMIN},
    "audit.event_list": {Role.ADMIN, Role.AUDITOR, Role.PARTNER_ADMIN},
    "audit.event_csv": {Role.ADMIN, Role.AUDITOR, Role.PARTNER_ADMIN},
    "audit.event_detail": {Role.ADMIN, Role.AUDITOR, Role.PARTNER_ADMIN},
    "audit.event_proof": {Role.ADMIN, Role.AUDITOR, Role.PARTNER_ADMIN},
    "learning.course_list": EVERYONE,
    "learning.course_detail": EVERYONE,
    "learning.lesson": EVERYONE,
    "learning.asset": EVERYONE,
    "learning.job_aid_list": EVERYONE,
    "learning.job_aid": EVERYONE,
    "learning.country_rules": EVERYONE,
    "learning.country_note": EVERYONE,
    "learning.lesson_complete": LEARNERS,
    "assessment.quiz": LEARNERS,
    "assessment.start": LEARNERS,
    "assessment.question": LEARNERS,
    "assessment.autosave": LEARNERS,
    "assessment.review": LEARNERS,
    "assessment.submit": LEARNERS,
    "assessment.result": LEARNERS,
    "analysis.quiz_list": {Role.TRAINER, Role.ADMIN},
    "analysis.quiz": {Role.TRAINER, Role.ADMIN},
    "analysis.chart": {Role.TRAINER, Role.ADMIN},
    "analysis.regrade": {Role.TRAINER, Role.ADMIN},
    "authoring.index": AUTHORS,
    "authoring.course_new": AUTHORS,
    "authoring.programme_new": AUTHORS,
    "authoring.programme_edit": AUTHORS,
    "authoring.import_upload": AUTHORS,
    "authoring.draft_open": AUTHORS,
    "authoring.draft_discard": AUTHORS,
    "authoring.file_edit": AUTHORS,
    "authoring.course_edit": AUTHORS,
    "authoring.lesson_new": AUTHORS,
    "authoring.lesson_edit": AUTHORS,
    "authoring.lesson_delete": AUTHORS,
    "authoring.lesson_move": AUTHORS,
    "authoring.markdown_preview": AUTHORS,
    "authoring.image_upload": AUTHORS,
    "authoring.draft_image": AUTHORS,
    "authoring.draft_preview": AUTHORS,
    "authoring.publish": AUTHORS,
    "authoring.history": AUTHORS,
    "authoring.diff": AUTHORS,
    "authoring.export_zip": AUTHORS,
    "authoring.translations": AUTHORS,
    "authoring.translation_edit": AUTHORS,
    "authoring.translation_download": AUTHORS,
    "authoring.quiz_new": AUTHORS,
    "authoring.quiz_edit": AUTHORS,
    "authoring.quiz_question_new": AUTHORS,
    "authoring.quiz_question": AUTHORS,
    "authoring.quiz_question_delete": AUTHORS,
    "authoring.quiz_question_move": AUTHORS,
    "authoring.quiz_simulation": AUTHORS,
    "authoring.quiz_simulation_node": AUTHORS,
    "authoring.quiz_simulation_node_add": AUTHORS,
    "authoring.quiz_simulation_node_delete": AUTHORS,
    "authoring.quiz_preview": AUTHORS,
    "certification.dashboard": READERS,
    "certification.chart": READERS,
    "certification.export_csv": READERS,
    "certification.person": READERS,
    "certification.revoke": {Role.TRAINER, Role.ADMIN},
    "evidence.reissue": {Role.ADMIN},
    "erasure.erase_person": {Role.ADMIN},
    "data_requests.request_list": {Role.ADMIN},
    "data_requests.request_new": {Role.ADMIN},
    "data_requests.request_detail": {Role.ADMIN},
    "data_requests.restriction": {Role.ADMIN},
    "data_requests.reissue_request": {Role.AGENT, Role.TRAINER, Role.ADMIN},  # whoever can earn awards
    "certification.assignments": {Role.TRAINER, Role.ADMIN, Role.PARTNER_ADMIN},  # partner admins: what is available
    # Then the record rules: a partner admin's own organisation's agents and assignments (tests/certification).
    "certification.assignment_people": {Role.TRAINER, Role.ADMIN, Role.PARTNER_ADMIN},
    "certification.assignment_edit": {Role.TRAINER, Role.ADMIN, Role.PARTNER_ADMIN},
    "certification.assignment_remove": {Role.TRAINER, Role.ADMIN, Role.PARTNER_ADMIN},
    "evidence.certificate_pdf": EVERYONE,  # and then the record rule (tests/evidence)
    "evidence.transcript_pdf": EVERYONE,  # and then the record rule (tests/evidence)
    "evidence.verify_start": "public",
    "evidence.verify": "public",
    "credentials.award": EVERYONE,  # and then the record rule (tests/credentials)
    "credentials.badge_json": EVERYONE,
    "credentials.badge_jwt": EVERYONE,
    "credentials.badge_png": EVERYONE,
    "credentials.wallet": "public",
    "credentials.status_list_credential": "public",
    "credentials.jwks": "public",
    "credentials.did_document": "public",
    "my_data.overview": EVERYONE,
    "my_data.download": EVERYONE,
    "my_data.download_for": {Role.ADMIN},  # and then the record rule (tests/privacy)
    "reminders.outbox": {Role.ADMIN},
    "xapi.outbox_page": {Role.ADMIN},
    "xapi.retry": {Role.ADMIN},
    "xapi.export_ndjson": {Role.ADMIN},
    # Exports: then the record rules (own jobs, scoped auditor's partner only; tests/jobs).
    "jobs.export_list": READERS,
    "jobs.export_detail": READERS,
    "jobs.export_status": READERS,
    "jobs.export_file": READERS,
    "jobs.export_retry": READERS,
    "branding.edit": {Role.ADMIN},
    # Second factors: the sign-in steps are public (the pending sign-in or the passkey is the
    # credential); one's own factors are for everyone signed in.
    "mfa.verify": "public",
    "mfa.passkey_verify_options": "public",
    "mfa.passkey_verify": "public",
    "mfa.passkey_sign_in_options": "public",
    "mfa.passkey_sign_in": "public",
    "mfa.overview": EVERYONE,
    "mfa.totp_enrol": EVERYONE,
    "mfa.totp_remove": EVERYONE,
    "mfa.recovery_codes": EVERYONE,
    "mfa.passkey_register_options": EVERYONE,
    "mfa.passkey_register": EVERYONE,
    "mfa.passkey_remove": EVERYONE,  # and then the record rule: one's own passkey (tests/mfa)
    "accounts.second_factors_reset": PEOPLE_MANAGERS,
    "privacy_notice.notice": "public",
    "privacy_notice.notice_seen": EVERYONE,
    "privacy_record.index": {Role.ADMIN},
    "privacy_record.record_csv_download": {Role.ADMIN},
    "privacy_record.record_pdf_download": {Role.ADMIN},
    "breaches.breach_list": {Role.ADMIN},
    "breaches.breach_new": {Role.ADMIN},
    "breaches.breach_edit": {Role.ADMIN},
    # Single sign-on: the IdP's answer and the way back from its logout are public.
    "sso.callback": "public",
    "sso.signed_out": "public",
    "sso.connection_list": {Role.ADMIN},
    "sso.connection_new": {Role.ADMIN},
    "sso.connection_edit": {Role.ADMIN},
    "sso.connection_delete": {Role.ADMIN},
    # SCIM takes its bearer token, never a session: 401 for every role (tests/scim).
    "scim.user_list": "scim_token",
    "scim.user_create": "scim_token",
    "scim.user": "scim_token",
    "scim.user_replace": "scim_token",
    "scim.user_patch": "scim_token",
    "scim.user_delete": "scim_token",
    "scim.group_list": "scim_token",
    "scim.group_create": "scim_token",
    "scim.group": "scim_token",
    "scim.group_replace": "scim_token",
    "scim.group_patch": "scim_token",
    "scim.group_delete": "scim_token",
    "scim.service_provider_config": "scim_token",
    "scim.resource_types": "scim_token",
    "scim.resource_type": "scim_token",
    "scim.schemas": "scim_token",
    "scim.schema": "scim_token",
    "scim_admin.organisation_scim": {Role.ADMIN},
    "scim_admin.token_revoke": {Role.ADMIN},
    "scim_admin.group_mapping": {Role.ADMIN},
    # The clearance API takes an API key, never a session: 401 for every role (tests/api).
    "api_v1.agent_clearance": "api_key",
    "api_v1.clearance_batch": "api_key",
    "api_v1.agent_list": "api_key",
    "api_v1.award_list": "api_key",
    "api_v1.evidence_pack_list": "api_key",
    "api_docs.openapi_json": "public",
    "api_docs.docs": "public",
    "api_keys.key_list": {Role.ADMIN},
    "api_keys.key_new": {Role.ADMIN},
    "api_keys.key_rotate": {Role.ADMIN},
    "api_keys.key_revoke": {Role.ADMIN},
    # Webhook endpoints: partner admins too, then the record rule (their organisation's; tests/webhooks).
    "webhooks.endpoint_list": PEOPLE_MANAGERS,
    "webhooks.endpoint_new": PEOPLE_MANAGERS,
    "webhooks.endpoint_detail": PEOPLE_MANAGERS,
    "webhooks.endpoint_edit": PEOPLE_MANAGERS,
    "webhooks.endpoint_rotate": PEOPLE_MANAGERS,
    "webhooks.endpoint_delete": PEOPLE_MANAGERS,
    "webhooks.endpoint_state": PEOPLE_MANAGERS,
    "webhooks.endpoint_test": PEOPLE_MANAGERS,
    "webhooks.delivery_retry": PEOPLE_MANAGERS,
    "roster.upload": PEOPLE_MANAGERS,
    "roster.preview": PEOPLE_MANAGERS,
    "roster.preview_csv": PEOPLE_MANAGERS,
    "roster.apply": PEOPLE_MANAGERS,
    "roster.template": PEOPLE_MANAGERS,
}


# Endpoints that only scripts call: signed out, they answer 401 rather than redirect.
JSON_ONLY = {"assessment.autosave"}
# Endpoints that a script calls with a passkey's answer, or during a sign-in: the matrix's
# empty answer is refused (400), and so is a call with no sign-in under way (401); neither is
# a redirect or a denial.
REFUSES_EMPTY_CREDENTIAL = {"mfa.passkey_verify_options", "mfa.passkey_verify", "mfa.passkey_sign_in",
                            "mfa.passkey_register", "sso.callback"}


def test_every_endpoint_declares_a_rule(app: Flask):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = endpoints - ENDPOINTS.keys()
    assert not undeclared, f"endpoints without a rule in lms/policy.py: {sorted(undeclared)}"
    stale = ENDPOINTS.keys() - endpoints
    assert not stale, f"rules for endpoints that no longer exist: {sorted(stale)}"


def test_matrix_covers_every_endpoint(app: Flask):
    assert {rule.endpoint for rule in app.url_map.iter_rules()} == EXPECTED.keys()


@pytest.fixture
def world(app: Flask, tmp_path: Path):
    """Two organisations with agents, and one user of every role; a signing key of the test's own,
    since some allowed requests sign a PDF (My data), and a fresh clone has no instance key."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    app.config.update(SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None, SIGNING_KEY_ID=None)
    client_org = factories.organisation("Client Co", OrganisationKind.CLIENT, "IE")
    partner = factories.organisation("Partner A")
    other_partner = factories.organisation("Partner B")
    people = {role: factories.user(role, partner if role is Role.PARTNER_ADMIN else client_org) for role in ROLES}
    people["own_agent"] = people[Role.AGENT]
    people["other_agent"] = factories.user(Role.AGENT, client_org)
    people["partner_agent"] = factories.user(Role.AGENT, partner)
    people["other_partner_agent"] = factories.user(Role.AGENT, other_partner)
    people["scoped_auditor"] = factories.user(Role.AUDITOR, client_org, scope=partner)
    load_content(FIXTURE)
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == "recording-calls"))
    attempts = {key: start_attempt(people[key], quiz).id for key in ("other_agent", "other_partner_agent")}
    db.session.commit()
    return {"people": people, "partner": partner, "other_partner": other_partner, "client": client_org,
            "attempts": attempts}


def _urls(app: Flask, world) -> dict[str, list[tuple[str, str]]]:
    """Concrete (method, url) pairs per endpoint, with records of self, another agent and another org."""
    p = world["people"]
    urls = {
        "main.index": [("GET", "/")],
        "main.health": [("GET", "/healthz")],
        "static": [("GET", "/static/css/app.css")],
        "accounts.login": [("GET", "/login")],
        "accounts.logout": [("POST", "/logout")],
        "accounts.set_password": [("GET", "/set-password/not-a-token")],
        "accounts.reset_password": [("GET", "/reset-password/not-a-token")],
        "accounts.set_password_form": [("GET", "/set-password")],
        "accounts.forgot_password": [("GET", "/forgot-password")],
        "accounts.security": [("GET", "/account/security")],
        "accounts.change_password": [("POST", "/account/password")],
        "accounts.change_locale": [("POST", "/account/locale")],
        "accounts.choose_language": [("POST", "/language")],
        "accounts.session_end": [("POST", "/account/sessions/999999/end")],
        "accounts.sessions_end_others": [("GET", "/account/sessions/end-others")],
        "accounts.user_list": [("GET", "/admin/users")],
        "accounts.user_new": [("GET", "/admin/users/new")],
        "accounts.organisation_list": [("GET", "/admin/organisations")],
        "accounts.organisation_new": [("GET", "/admin/organisations/new")],
        "accounts.organisation_edit": [("GET", f"/admin/organisations/{world['partner'].id}")],
        "audit.event_list": [("GET", "/audit/")],
        "audit.event_csv": [("GET", "/audit/events.csv")],
        "audit.event_detail": [("GET", "/audit/events/999999")],
        "audit.event_proof": [("GET", "/audit/events/999999/proof.json")],
        "learning.course_list": [("GET", "/courses")],
        "learning.course_detail": [("GET", "/courses/nope")],
        "learning.lesson": [("GET", "/courses/nope/lessons/nope")],
        "learning.asset": [("GET", "/courses/nope/v/0123456789ab/img/x.png")],
        "learning.job_aid_list": [("GET", "/job-aids")],
        "learning.job_aid": [("GET", "/job-aids/nope")],
        "learning.country_rules": [("GET", "/country-rules")],
        "learning.country_note": [("GET", "/country-rules/xx")],
        "learning.lesson_complete": [("POST", "/courses/nope/lessons/nope/complete")],
        "assessment.quiz": [("GET", "/quizzes/nope")],
        "assessment.start": [("POST", "/quizzes/nope/start")],
        "analysis.quiz_list": [("GET", "/analysis/quizzes")],
        "analysis.quiz": [("GET", "/analysis/quizzes/nope")],
        "analysis.chart": [("GET", "/analysis/quizzes/nope/phases.svg")],
        "analysis.regrade": [("GET", "/analysis/quizzes/nope/regrade"), ("POST", "/analysis/quizzes/nope/regrade")],
        "authoring.index": [("GET", "/authoring/")],
        "authoring.course_new": [("GET", "/authoring/course/new")],
        "authoring.programme_new": [("GET", "/authoring/programme/new")],
        "authoring.programme_edit": [("GET", "/authoring/programme/nope"), ("POST", "/authoring/programme/nope")],
        "authoring.import_upload": [("POST", "/authoring/import")],
        "authoring.draft_open": [("POST", "/authoring/course/recording-calls/open")],
        "authoring.draft_discard": [("GET", "/authoring/course/nope/discard"),
                                    ("POST", "/authoring/course/nope/discard")],
        "authoring.file_edit": [("GET", "/authoring/programme/nope/file")],
        "authoring.course_edit": [("GET", "/authoring/course/nope")],
        "authoring.lesson_new": [("GET", "/authoring/course/nope/lessons/new")],
        "authoring.lesson_edit": [("GET", "/authoring/course/nope/lessons/01-x.md")],
        "authoring.lesson_delete": [("POST", "/authoring/course/nope/lessons/01-x.md/delete")],
        "authoring.lesson_move": [("POST", "/authoring/course/nope/lessons/01-x.md/move")],
        "authoring.markdown_preview": [("POST", "/authoring/course/nope/preview-markdown")],
        "authoring.image_upload": [("POST", "/authoring/course/nope/images")],
        "authoring.draft_image": [("GET", "/authoring/course/nope/files/img/x.png")],
        "authoring.draft_preview": [("GET", "/authoring/course/nope/preview")],
        "authoring.publish": [("GET", "/authoring/course/nope/publish")],
        "authoring.history": [("GET", "/authoring/course/recording-calls/versions")],
        "authoring.diff": [("GET", "/authoring/course/recording-calls/diff")],
        "authoring.export_zip": [("GET", "/authoring/course/recording-calls/export.zip")],
        "authoring.translations": [("GET", "/authoring/translations")],
        "authoring.translation_edit": [("GET", "/authoring/translations/course/recording-calls/fr")],
        "authoring.translation_download": [("GET", "/authoring/translations/course/recording-calls/fr/files")],
        "authoring.quiz_new": [("GET", "/authoring/quizzes/new")],
        "authoring.quiz_edit": [("GET", "/authoring/quizzes/recording-calls"), ("POST", "/authoring/quizzes/nope")],
        "authoring.quiz_question_new": [("GET", "/authoring/quizzes/recording-calls/questions/new/true_false"),
                                        ("POST", "/authoring/quizzes/nope/questions/new/true_false")],
        "authoring.quiz_question": [("GET", "/authoring/quizzes/recording-calls/questions/verbal-sar"),
                                    ("POST", "/authoring/quizzes/nope/questions/verbal-sar")],
        "authoring.quiz_question_delete": [("POST", "/authoring/quizzes/nope/questions/verbal-sar/delete")],
        "authoring.quiz_question_move": [("POST", "/authoring/quizzes/nope/questions/verbal-sar/move")],
        "authoring.quiz_simulation": [("GET", "/authoring/quizzes/recording-calls/simulations/sim-impostor"),
                                      ("POST", "/authoring/quizzes/nope/simulations/sim-impostor")],
        "authoring.quiz_simulation_node": [("GET", "/authoring/quizzes/recording-calls/simulations/sim-impostor/nodes/n1"),
                                           ("POST", "/authoring/quizzes/nope/simulations/x/nodes/n1")],
        "authoring.quiz_simulation_node_add": [("POST", "/authoring/quizzes/nope/simulations/x/nodes")],
        "authoring.quiz_simulation_node_delete": [("POST", "/authoring/quizzes/nope/simulations/x/nodes/n1/delete")],
        "authoring.quiz_preview": [("GET", "/authoring/quizzes/recording-calls/preview"), ("POST", "/authoring/quizzes/nope/preview")],
        "certification.dashboard": [("GET", "/dashboard")],
        "certification.chart": [("GET", "/dashboard/status.svg")],
        "certification.export_csv": [("GET", "/dashboard.csv")],
        "certification.assignments": [("GET", "/assignments")],
        "certification.assignment_people": [("GET", "/assignments/people.json?q=agent")],
        "certification.assignment_edit": [("GET", "/assignments/999999/edit"), ("POST", "/assignments/999999/edit")],
        "certification.assignment_remove": [("GET", "/assignments/999999/remove"),
                                            ("POST", "/assignments/999999/remove")],
        "evidence.certificate_pdf": [("GET", "/awards/999999/certificate.pdf")],
        "evidence.transcript_pdf": [("GET", "/people/999999/transcript.pdf")],
        "evidence.verify_start": [("GET", "/verify")],
        "evidence.verify": [("GET", "/verify/unknown-code")],
        "credentials.award": [("GET", "/awards/999999/badge")],
        "credentials.badge_json": [("GET", "/awards/999999/badge.json")],
        "credentials.badge_jwt": [("GET", "/awards/999999/badge.jwt")],
        "credentials.badge_png": [("GET", "/awards/999999/badge.png")],
        "credentials.wallet": [("GET", "/credentials/00000000-0000-4000-8000-000000000000")],
        "credentials.status_list_credential": [("GET", "/credentials/status/999")],
        "credentials.jwks": [("GET", "/.well-known/jwks.json")],
        "credentials.did_document": [("GET", "/.well-known/did.json")],
        "my_data.overview": [("GET", "/account/my-data")],
        # The ZIP itself renders a signed PDF: tests/privacy downloads it; here, no such person.
        "my_data.download": [("GET", "/account/my-data.zip")],
        "my_data.download_for": [("GET", "/people/999999/my-data.zip")],
        "certification.revoke": [("GET", "/awards/999999/revoke"), ("POST", "/awards/999999/revoke")],
        "evidence.reissue": [("POST", "/awards/999999/reissue")],
        "erasure.erase_person": [("GET", "/people/999999/erase")],
        "data_requests.request_list": [("GET", "/admin/requests")],
        "data_requests.request_new": [("GET", "/people/999999/requests/new")],
        "data_requests.request_detail": [("GET", "/admin/requests/999999")],
        "data_requests.restriction": [("POST", "/people/999999/restriction")],
        "data_requests.reissue_request": [("POST", "/account/reissue-request")],
        # The partner agent is visible to company-wide roles and to the partner's scoped
        # auditor; the other partner's agent is a 404 for that auditor (checked below).
        "certification.person": [("GET", f"/people/{p['partner_agent'].id}")],
        "reminders.outbox": [("GET", "/admin/outbox")],
        "xapi.outbox_page": [("GET", "/admin/xapi")],
        "xapi.retry": [("POST", "/admin/xapi/retry")],
        "xapi.export_ndjson": [("POST", "/admin/xapi/export")],
        # A POST for no organisation (or one out of scope) is a 404; tests/jobs covers the rest.
        "jobs.export_list": [("GET", "/exports"), ("POST", "/exports")],
        "jobs.export_detail": [("GET", "/exports/999999")],
        "jobs.export_status": [("GET", "/exports/999999/status")],
        "jobs.export_file": [("GET", "/exports/999999/files/x.zip")],
        "jobs.export_retry": [("POST", "/exports/999999/retry")],
        "branding.edit": [("GET", "/admin/branding")],
        "mfa.verify": [("GET", "/login/verify")],
        "mfa.passkey_verify_options": [("POST", "/login/verify/passkey/options")],
        "mfa.passkey_verify": [("POST", "/login/verify/passkey")],
        "mfa.passkey_sign_in_options": [("POST", "/login/passkey/options")],
        "mfa.passkey_sign_in": [("POST", "/login/passkey")],
        "mfa.overview": [("GET", "/account/mfa")],
        "mfa.totp_enrol": [("GET", "/account/mfa/totp")],
        "mfa.totp_remove": [("GET", "/account/mfa/totp/remove")],
        "mfa.recovery_codes": [("GET", "/account/mfa/recovery-codes")],
        "mfa.passkey_register_options": [("POST", "/account/mfa/passkeys/options")],
        "mfa.passkey_register": [("POST", "/account/mfa/passkeys")],
        "mfa.passkey_remove": [("GET", "/account/mfa/passkeys/999999/remove")],
        "accounts.second_factors_reset": [("GET", f"/admin/users/{p['own_agent'].id}/second-factors/reset")],
        "privacy_notice.notice": [("GET", "/privacy")],
        "privacy_notice.notice_seen": [("POST", "/privacy/seen")],
        "privacy_record.index": [("GET", "/admin/processing-record")],
        "privacy_record.record_csv_download": [("GET", "/admin/processing-record/record.csv")],
        "privacy_record.record_pdf_download": [("GET", "/admin/processing-record/record.pdf")],
        "breaches.breach_list": [("GET", "/admin/breaches")],
        "breaches.breach_new": [("GET", "/admin/breaches/new"), ("POST", "/admin/breaches/new")],
        "breaches.breach_edit": [("GET", "/admin/breaches/999999")],
        "sso.callback": [("GET", "/sso/callback?code=x&state=y")],
        "sso.signed_out": [("GET", "/sso/signed-out")],
        "sso.connection_list": [("GET", "/admin/sso")],
        "sso.connection_new": [("GET", "/admin/sso/new"), ("POST", "/admin/sso/new")],
        "sso.connection_edit": [("GET", "/admin/sso/999999")],
        "sso.connection_delete": [("GET", "/admin/sso/999999/delete"), ("POST", "/admin/sso/999999/delete")],
        "scim.user_list": [("GET", "/scim/v2/Users")],
        "scim.user_create": [("POST", "/scim/v2/Users")],
        "scim.user": [("GET", f"/scim/v2/Users/{p['partner_agent'].id}")],
        "scim.user_replace": [("PUT", f"/scim/v2/Users/{p['partner_agent'].id}")],
        "scim.user_patch": [("PATCH", f"/scim/v2/Users/{p['partner_agent'].id}")],
        "scim.user_delete": [("DELETE", f"/scim/v2/Users/{p['partner_agent'].id}")],
        "scim.group_list": [("GET", "/scim/v2/Groups")],
        "scim.group_create": [("POST", "/scim/v2/Groups")],
        "scim.group": [("GET", "/scim/v2/Groups/1")],
        "scim.group_replace": [("PUT", "/scim/v2/Groups/1")],
        "scim.group_patch": [("PATCH", "/scim/v2/Groups/1")],
        "scim.group_delete": [("DELETE", "/scim/v2/Groups/1")],
        "scim.service_provider_config": [("GET", "/scim/v2/ServiceProviderConfig")],
        "scim.resource_types": [("GET", "/scim/v2/ResourceTypes")],
        "scim.resource_type": [("GET", "/scim/v2/ResourceTypes/User")],
        "scim.schemas": [("GET", "/scim/v2/Schemas")],
        "scim.schema": [("GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")],
        "scim_admin.organisation_scim": [("GET", f"/admin/organisations/{world['partner'].id}/scim")],
        "scim_admin.token_revoke": [("GET", f"/admin/organisations/{world['partner'].id}/scim/tokens/999999/revoke")],
        "scim_admin.group_mapping": [("POST", f"/admin/organisations/{world['partner'].id}/scim/groups/999999")],
        "api_v1.agent_clearance": [("GET", f"/api/v1/agents/{p['own_agent'].id}/clearance")],
        "api_v1.clearance_batch": [("POST", "/api/v1/clearance:batch")],
        "api_v1.agent_list": [("GET", "/api/v1/agents")],
        "api_v1.award_list": [("GET", "/api/v1/awards")],
        "api_v1.evidence_pack_list": [("GET", "/api/v1/evidence-packs")],
        "api_docs.openapi_json": [("GET", "/api/v1/openapi.json")],
        "api_docs.docs": [("GET", "/api/v1/docs")],
        "api_keys.key_list": [("GET", "/admin/api-keys/")],
        "api_keys.key_new": [("GET", "/admin/api-keys/new")],
        "api_keys.key_rotate": [("GET", "/admin/api-keys/999999/rotate")],
        "api_keys.key_revoke": [("GET", "/admin/api-keys/999999/revoke")],
        "webhooks.endpoint_list": [("GET", "/admin/webhooks/")],
        "webhooks.endpoint_new": [("GET", "/admin/webhooks/new")],
        "webhooks.endpoint_detail": [("GET", "/admin/webhooks/999999")],
        "webhooks.endpoint_edit": [("GET", "/admin/webhooks/999999/edit")],
        "webhooks.endpoint_rotate": [("GET", "/admin/webhooks/999999/rotate")],
        "webhooks.endpoint_delete": [("GET", "/admin/webhooks/999999/delete")],
        "webhooks.endpoint_state": [("POST", "/admin/webhooks/999999/state")],
        "webhooks.endpoint_test": [("POST", "/admin/webhooks/999999/test")],
        "webhooks.delivery_retry": [("POST", "/admin/webhooks/999999/deliveries/1/retry")],
        "roster.upload": [("GET", "/people/import")],
        "roster.preview": [("GET", "/people/import/999999")],
        "roster.preview_csv": [("GET", "/people/import/999999/preview.csv")],
        "roster.apply": [("POST", "/people/import/999999/apply")],
        "roster.template": [("GET", "/people/import/template.csv")],
    }
    # Attempts of an agent in the same organisation and of one in another: nobody but
    # their owner reaches them (tests/assessment covers the owner's own).
    for key in ("other_agent", "other_partner_agent"):
        aid = world["attempts"][key]
        urls.setdefault("assessment.question", []).extend([("GET", f"/attempts/{aid}/questions/1"),
                                                           ("POST", f"/attempts/{aid}/questions/1")])
        urls.setdefault("assessment.autosave", []).append(("POST", f"/attempts/{aid}/answers/1"))
        urls.setdefault("assessment.review", []).append(("GET", f"/attempts/{aid}/review"))
        urls.setdefault("assessment.submit", []).append(("POST", f"/attempts/{aid}/submit"))
        urls.setdefault("assessment.result", []).append(("GET", f"/attempts/{aid}"))
    for key in ("own_agent", "other_agent", "other_partner_agent"):
        uid = p[key].id
        urls.setdefault("accounts.user_edit", []).append(("GET", f"/admin/users/{uid}"))
        urls.setdefault("accounts.user_set_active", []).append(("POST", f"/admin/users/{uid}/active"))
        urls.setdefault("accounts.user_password_link", []).append(("POST", f"/admin/users/{uid}/password-link"))
    return urls


@pytest.mark.parametrize("role", ROLES + ["scoped_auditor", None], ids=lambda r: getattr(r, "value", str(r)))
def test_policy_matrix(app: Flask, world, role):
    client = app.test_client()
    if role is not None:
        person = world["people"][role]
        assert login(client, person.email, factories.PASSWORD).status_code == 302
    # The matrix checks the policy, not CSRF (which has tests of its own).
    app.config["WTF_CSRF_ENABLED"] = False
    as_role = Role.AUDITOR if role == "scoped_auditor" else role
    urls = _urls(app, world)
    assert urls.keys() == EXPECTED.keys()
    for endpoint, pairs in urls.items():
        for method, url in pairs:
            if endpoint == "accounts.logout":
                continue  # signing out would end this client's session mid-matrix; tested in test_auth
            response = client.open(url, method=method)
            response.close()
            expected = EXPECTED[endpoint]
            where = f"{role} {method} {url}"
            ok = (200, 302, 404) + ((400, 401) if endpoint in REFUSES_EMPTY_CREDENTIAL else ())
            if endpoint.startswith("assessment.") and "/attempts/" in url and as_role in expected:
                # Someone else's attempt: it does not exist for this user, reading or writing.
                assert response.status_code == 404, where
            elif expected == "public":
                assert response.status_code in ok, where
            elif expected == "scim_token":
                assert response.status_code == 401, where  # a session is never a SCIM token
            elif expected == "api_key":
                assert response.status_code == 401, where  # a session is never an API credential
            elif as_role is None and endpoint in JSON_ONLY:
                assert response.status_code == 401, where  # a script cannot follow a redirect to sign in
            elif as_role is None:
                assert response.status_code == 302 and "/login" in response.location, where
            elif as_role in expected:
                assert response.status_code in ok, where
                assert response.status_code != 302 or "/login" not in response.location, where
            else:
                assert response.status_code == 403, where
                assert "You don&#39;t have access" in response.get_data(as_text=True), where


def test_scoped_auditor_gets_404_for_another_organisations_agent(app: Flask, world):
    client = app.test_client()
    login(client, world["people"]["scoped_auditor"].email, factories.PASSWORD)
    assert client.get(f"/people/{world['people']['partner_agent'].id}").status_code == 200
    assert client.get(f"/people/{world['people']['other_partner_agent'].id}").status_code == 404
    assert client.get(f"/people/{world['people']['own_agent'].id}").status_code == 404
    agent = app.test_client()
    login(agent, world["people"]["own_agent"].email, factories.PASSWORD)
    assert agent.get(f"/people/{world['people']['own_agent'].id}").status_code == 403


def test_record_rules_limit_who_sees_whom(app: Flask, world):
    from lms.accounts.models import User

    p = world["people"]

    def visible(actor):
        return {u.id for u in db.session.scalars(restrict_users(actor, select(User)))}

    assert visible(p["own_agent"]) == {p["own_agent"].id}
    scoped = visible(p["scoped_auditor"])
    assert p["partner_agent"].id in scoped
    assert p["other_partner_agent"].id not in scoped and p["own_agent"].id not in scoped
    assert p["other_partner_agent"].id in visible(p[Role.AUDITOR])
    assert p["other_partner_agent"].id in visible(p[Role.TRAINER])


def test_denied_access_is_an_audit_event(app: Flask, world, client):
    from lms.audit.models import AuditEvent

    agent = world["people"][Role.AGENT]
    login(client, agent.email, factories.PASSWORD)
    assert client.get("/admin/users").status_code == 403
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert event.actor_id == agent.id and event.data["path"] == "/admin/users"
