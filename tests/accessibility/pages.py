"""What the crawl visits: one URL per GET endpoint that renders a page, as each audience that may
see it, and the GET endpoints it leaves out on purpose (EXCLUDED, each with its reason).

tests/accessibility/test_pages.py fails when a GET endpoint of the app is in neither table, so a
new page is crawled (or its exclusion argued) from the day it is added.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lms.accounts.models import Role
from lms.policy import ENDPOINTS, GRANTS, PUBLIC, SIGNED_IN, Permission
from tests.accessibility.browsing import sign_in
from tests.accessibility.world import COURSE, PROGRAMME, QUIZ, World, password_link

VISITOR = "visitor"  # signed out; reads the language of the `lang` cookie
# The crawled people (tests/accessibility/world.py) and their roles.
ROLES = {"agent": Role.AGENT, "trainer": Role.TRAINER, "auditor": Role.AUDITOR, "scoped_auditor": Role.AUDITOR,
         "admin": Role.ADMIN, "partner_admin": Role.PARTNER_ADMIN}
AUDIENCES = (VISITOR, *ROLES)

Url = Callable[[World, str], str]  # (the world, the audience) -> the path to visit


@dataclass(frozen=True)
class Page:
    """One page to crawl. `endpoint` is the one its final address (after redirects) must reach."""

    endpoint: str | None
    url: Url
    name: str = ""  # how failures name it; the endpoint when empty
    audiences: tuple[str, ...] | None = None  # None: whoever the policy lets in (see audiences_of)
    status: int = 200
    single_use: bool = False  # each visit needs a fresh address (a one-time link)
    # Done in the tab before the visit (the second sign-in step needs the first): (tab, world) -> None.
    prepare: Callable | None = None

    @property
    def label(self) -> str:
        return self.name or str(self.endpoint)

    def audiences_of(self) -> tuple[str, ...]:
        if self.audiences is not None:
            return self.audiences
        rule = ENDPOINTS[self.endpoint]
        if rule is PUBLIC:  # signed-in people see the same pages with their header, crawled elsewhere
            return (VISITOR,)
        if rule is SIGNED_IN:
            return tuple(ROLES)
        assert isinstance(rule, Permission), f"{self.endpoint}: no audience for the rule {rule}"
        return tuple(name for name, role in ROLES.items() if role in GRANTS[rule])


def fixed(path: str) -> Url:
    return lambda world, audience: path


def _question(kind: str) -> Url:
    """The audience's attempt in progress, at its question of this type."""
    return lambda world, audience: f"/attempts/{world.open_attempts[audience]}/questions/{world.question_at[kind]}"


def _sign_in_as_admin(tab, world: World) -> None:
    """The first step of signing in, as the admin, whose authenticator app makes a second step."""
    sign_in(tab, world.user("admin").email)


PAGES: tuple[Page, ...] = (
    # ---- signed out
    Page("accounts.login", fixed("/login")),
    Page("accounts.forgot_password", fixed("/forgot-password")),
    Page("accounts.set_password_form", lambda w, a: password_link(w, reset=False), name="set-password (admin's link)",
         single_use=True),
    Page("accounts.set_password_form", lambda w, a: password_link(w, reset=True), name="set-password (reset link)",
         single_use=True),
    Page("evidence.verify_start", fixed("/verify")),
    Page("evidence.verify", lambda w, a: f"/verify/{w.verification_code}"),
    Page("privacy_notice.notice", fixed("/privacy")),
    Page("api_docs.docs", fixed("/api/v1/docs")),
    Page("mfa.verify", fixed("/login/verify"), prepare=_sign_in_as_admin),
    Page(None, fixed("/no-such-page"), name="page not found", audiences=(VISITOR, "agent"), status=404),
    Page(None, fixed("/dashboard"), name="access refused", audiences=("agent",), status=403),
    # ---- everyone signed in
    Page("main.index", fixed("/")),
    Page("accounts.security", fixed("/account/security")),
    Page("accounts.sessions_end_others", fixed("/account/sessions/end-others")),
    Page("my_data.overview", fixed("/account/my-data")),
    Page("mfa.overview", fixed("/account/mfa")),
    # The admin has an authenticator app (world.add_admin_factors): theirs are the pages about it.
    Page("mfa.totp_enrol", fixed("/account/mfa/totp"), audiences=tuple(r for r in ROLES if r != "admin")),
    Page("mfa.totp_remove", fixed("/account/mfa/totp/remove"), audiences=("admin",)),
    Page("mfa.recovery_codes", fixed("/account/mfa/recovery-codes"), audiences=("admin",)),
    Page("mfa.passkey_remove", lambda w, a: f"/account/mfa/passkeys/{w.passkey_id}/remove", audiences=("admin",)),
    Page("credentials.award", lambda w, a: f"/awards/{w.award_id}/badge"),
    # ---- learning
    Page("learning.course_list", fixed("/courses")),
    Page("learning.course_detail", fixed(f"/courses/{COURSE}")),
    Page("learning.lesson", lambda w, a: f"/courses/{COURSE}/lessons/{w.lesson_key}"),
    Page("learning.job_aid_list", fixed("/job-aids")),
    Page("learning.job_aid", lambda w, a: f"/job-aids/{w.job_aid}"),
    Page("learning.country_rules", fixed("/country-rules")),
    Page("learning.country_note", fixed("/country-rules/fr")),
    Page("assessment.quiz", fixed(f"/quizzes/{QUIZ}")),
    # The question page of each type; the types other than the call simulation as the agent only
    # (the page is the same for the trainer and the admin, who take quizzes too, but for its header).
    Page("assessment.question", _question("call_simulation"), name="assessment.question (call_simulation)"),
    *(Page("assessment.question", _question(kind), name=f"assessment.question ({kind})", audiences=("agent",))
      for kind in ("single_choice", "multiple_response", "true_false", "ordering")),
    Page("assessment.review", lambda w, a: f"/attempts/{w.open_attempts[a]}/review"),
    Page("assessment.result", lambda w, a: f"/attempts/{w.finished_attempts[a]}"),
    # ---- staff
    Page("certification.dashboard", fixed("/dashboard")),
    Page("certification.person", lambda w, a: f"/people/{w.users['agent']}"),
    Page("certification.revoke", lambda w, a: f"/awards/{w.award_id}/revoke"),
    Page("certification.assignments", fixed("/assignments")),
    Page("certification.assignment_edit", lambda w, a: f"/assignments/{w.assignment_id}/edit"),
    Page("certification.assignment_remove", lambda w, a: f"/assignments/{w.assignment_id}/remove"),
    Page("jobs.export_list", fixed("/exports")),
    Page("jobs.export_detail", lambda w, a: f"/exports/{w.exports[a]}"),  # each their own
    Page("audit.event_list", fixed("/audit/")),
    Page("audit.event_detail", lambda w, a: f"/audit/events/{w.audit_seq}"),
    Page("analysis.quiz_list", fixed("/analysis/quizzes")),
    Page("analysis.quiz", fixed(f"/analysis/quizzes/{COURSE}")),
    Page("analysis.regrade", fixed(f"/analysis/quizzes/{COURSE}/regrade")),
    Page("accounts.user_list", fixed("/admin/users")),
    Page("accounts.user_new", fixed("/admin/users/new")),
    Page("accounts.user_edit", lambda w, a: f"/admin/users/{w.users['agent']}"),
    Page("accounts.second_factors_reset", lambda w, a: f"/admin/users/{w.users['agent']}/second-factors/reset"),
    Page("roster.upload", fixed("/people/import")),
    Page("roster.preview", lambda w, a: f"/people/import/{w.upload_id}"),
    Page("accounts.organisation_list", fixed("/admin/organisations")),
    Page("accounts.organisation_new", fixed("/admin/organisations/new")),
    Page("accounts.organisation_edit", lambda w, a: f"/admin/organisations/{w.atlas_id}"),
    Page("scim_admin.organisation_scim", lambda w, a: f"/admin/organisations/{w.atlas_id}/scim"),
    Page("scim_admin.token_revoke", lambda w, a: f"/admin/organisations/{w.atlas_id}/scim/tokens/"
                                                 f"{w.scim_token_id}/revoke"),
    Page("sso.connection_list", fixed("/admin/sso")),
    Page("sso.connection_new", fixed("/admin/sso/new")),
    Page("sso.connection_edit", lambda w, a: f"/admin/sso/{w.sso_id}"),
    Page("sso.connection_delete", lambda w, a: f"/admin/sso/{w.sso_id}/delete"),
    Page("api_keys.key_list", fixed("/admin/api-keys/")),
    Page("api_keys.key_new", fixed("/admin/api-keys/new")),
    Page("api_keys.key_rotate", lambda w, a: f"/admin/api-keys/{w.api_key_id}/rotate"),
    Page("api_keys.key_revoke", lambda w, a: f"/admin/api-keys/{w.api_key_id}/revoke"),
    Page("webhooks.endpoint_list", fixed("/admin/webhooks/")),
    Page("webhooks.endpoint_new", fixed("/admin/webhooks/new")),
    Page("webhooks.endpoint_detail", lambda w, a: f"/admin/webhooks/{w.webhook_id}"),
    Page("webhooks.endpoint_edit", lambda w, a: f"/admin/webhooks/{w.webhook_id}/edit"),
    Page("webhooks.endpoint_rotate", lambda w, a: f"/admin/webhooks/{w.webhook_id}/rotate"),
    Page("webhooks.endpoint_delete", lambda w, a: f"/admin/webhooks/{w.webhook_id}/delete"),
    Page("branding.edit", fixed("/admin/branding")),
    Page("reminders.outbox", fixed("/admin/outbox")),
    Page("xapi.outbox_page", fixed("/admin/xapi")),
    Page("privacy_record.index", fixed("/admin/processing-record")),
    Page("breaches.breach_list", fixed("/admin/breaches")),
    Page("breaches.breach_new", fixed("/admin/breaches/new")),
    Page("breaches.breach_edit", lambda w, a: f"/admin/breaches/{w.breach_id}"),
    Page("data_requests.request_list", fixed("/admin/requests")),
    Page("data_requests.request_new", lambda w, a: f"/people/{w.users['agent']}/requests/new"),
    Page("data_requests.request_detail", lambda w, a: f"/admin/requests/{w.request_id}"),
    Page("erasure.erase_person", lambda w, a: f"/people/{w.users['agent']}/erase"),
    # ---- authoring (the trainer opened the drafts: world.build)
    Page("authoring.index", fixed("/authoring/")),
    Page("authoring.course_new", fixed("/authoring/course/new")),
    Page("authoring.course_edit", fixed(f"/authoring/course/{COURSE}")),
    Page("authoring.lesson_new", fixed(f"/authoring/course/{COURSE}/lessons/new")),
    Page("authoring.lesson_edit", lambda w, a: f"/authoring/course/{COURSE}/lessons/{w.lesson_file}"),
    Page("authoring.draft_preview", fixed(f"/authoring/course/{COURSE}/preview")),
    Page("authoring.draft_preview", lambda w, a: f"/authoring/course/{COURSE}/preview/{w.lesson_key}",
         name="authoring.draft_preview (a lesson)"),
    Page("authoring.publish", fixed(f"/authoring/course/{COURSE}/publish")),
    Page("authoring.history", fixed(f"/authoring/course/{COURSE}/versions")),
    Page("authoring.diff", fixed(f"/authoring/course/{COURSE}/diff?to=draft")),
    Page("authoring.file_edit", fixed(f"/authoring/programme/{PROGRAMME}/file")),
    Page("authoring.draft_discard", fixed(f"/authoring/course/{COURSE}/discard")),
    Page("authoring.programme_new", fixed("/authoring/programme/new")),
    Page("authoring.programme_edit", fixed(f"/authoring/programme/{PROGRAMME}")),
    Page("authoring.quiz_new", fixed("/authoring/quizzes/new")),
    Page("authoring.quiz_edit", fixed(f"/authoring/quizzes/{QUIZ}")),
    Page("authoring.quiz_preview", fixed(f"/authoring/quizzes/{QUIZ}/preview")),
    Page("authoring.quiz_question", lambda w, a: f"/authoring/quizzes/{QUIZ}/questions/{w.quiz_item}"),
    Page("authoring.quiz_question_new", fixed(f"/authoring/quizzes/{QUIZ}/questions/new/ordering")),
    Page("authoring.quiz_simulation", lambda w, a: f"/authoring/quizzes/{QUIZ}/simulations/{w.simulation_item}"),
    Page("authoring.translations", fixed("/authoring/translations")),
    Page("authoring.translation_edit", fixed(f"/authoring/translations/course/{COURSE}/fr")),
    Page("authoring.quiz_simulation_node", lambda w, a: f"/authoring/quizzes/{QUIZ}/simulations/"
                                                        f"{w.simulation_item}/nodes/{w.simulation_node}"),
)

# GET endpoints that answer no page of their own. Each says why, so that a reader can check it.
EXCLUDED: dict[str, str] = {
    "static": "stylesheets, scripts and images, loaded by every crawled page",
    "main.health": "JSON for the load balancer",
    # One-time links: they trade the token for server-side state and redirect to the set-password
    # form, which the crawl reaches through them.
    "accounts.set_password": "redirects to accounts.set_password_form (crawled through it)",
    "accounts.reset_password": "redirects to accounts.set_password_form (crawled through it)",
    "sso.callback": "the identity provider's redirect back; answers with a redirect (tests/sso)",
    "sso.signed_out": "redirects to the sign-in page after the identity provider signed out (tests/sso)",
    # Files and data, not pages.
    "my_data.download": "ZIP download",
    "my_data.download_for": "ZIP download",
    "evidence.certificate_pdf": "PDF download",
    "evidence.transcript_pdf": "PDF download",
    "privacy_record.record_csv_download": "CSV download",
    "privacy_record.record_pdf_download": "PDF download",
    "certification.export_csv": "CSV download",
    "certification.chart": "SVG image inside the dashboard (checked there, with its text alternative)",
    "analysis.chart": "SVG image inside the quiz analysis page (checked there)",
    "roster.preview_csv": "CSV download",
    "roster.template": "CSV download",
    "jobs.export_file": "an export's file download",
    "jobs.export_status": "JSON polled by the export page's script",
    "certification.assignment_people": "JSON searched by the assignment form's person picker (static/js/person_picker.js)",
    "authoring.export_zip": "ZIP download",
    "authoring.translation_download": "a translation's files (YAML, Markdown or a ZIP of them)",
    "audit.event_csv": "CSV download of the audit log",
    "authoring.draft_image": "an image of a draft, inside the lesson editor and preview",
    "learning.asset": "an image of a course, inside its lessons",
    "audit.event_proof": "JSON inclusion proof",
    "credentials.badge_json": "Open Badges credential (JSON-LD download)",
    "credentials.badge_jwt": "Open Badges credential (JWT download)",
    "credentials.badge_png": "baked badge image",
    "credentials.wallet": "the credential for wallets (JSON-LD or JWT)",
    "credentials.status_list_credential": "Bitstring status list credential (JSON)",
    "credentials.jwks": "the issuer's public keys (JSON)",
    "credentials.did_document": "the issuer's DID document (JSON)",
    "api_docs.openapi_json": "the OpenAPI document (JSON); api_docs.docs is its page",
    # Machine interfaces, bearer-token only (JSON).
    **{endpoint: "SCIM 2.0 (JSON, bearer token)" for endpoint in (
        "scim.user_list", "scim.user", "scim.group_list", "scim.group", "scim.service_provider_config",
        "scim.resource_types", "scim.resource_type", "scim.schemas", "scim.schema")},
    **{endpoint: "clearance API (JSON, API key)" for endpoint in (
        "api_v1.agent_list", "api_v1.agent_clearance", "api_v1.award_list", "api_v1.evidence_pack_list")},
}
