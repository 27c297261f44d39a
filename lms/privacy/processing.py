"""What the app processes, why, for whom and for how long: one description, read from the configuration.

The privacy notice (Arts 13 and 14), the Art. 15(1) information that goes with a person's
"My data" export, the record of processing (Art. 30) and the retention job all read it
here, so they cannot disagree. Deployments set the PRIVACY_* and RETENTION_* settings
(lms/config.py); the defaults describe a contact-centre company training its own agents
and its outsourcing partners' agents.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lms.config import ConfigError

# The lawful bases a deployment may choose for training records (Art. 6(1)).
LAWFUL_BASES: dict[str, str] = {
    "c": "Art. 6(1)(c): a legal obligation (the controller must show its staff are trained: Arts 5(2), 24, 39(1)(b))",
    "f": "Art. 6(1)(f): the controller's legitimate interest in training the people who handle its customers' "
         "personal data and in proving it",
}


@dataclass(frozen=True)
class RetentionRule:
    """One data class of the retention schedule (applied daily by lms/privacy/retention.py)."""

    key: str
    label: str
    period: str  # for people: "30 days after the session ends"
    days: int | None  # the number the job uses; None where the period is counted otherwise
    what_happens: str  # deleted, or pseudonymised
    setting: str | None = None  # the setting (lms/config.py) that sets the period, if any


@dataclass(frozen=True)
class Purpose:
    name: str
    lawful_basis: str
    data: str  # the categories of personal data used for it
    subjects: str = ""  # the categories of data subjects (Art. 30(1)(c))
    retention: tuple[str, ...] = ()  # the keys of the retention rules that apply to its data


def retention_schedule(config: Mapping[str, Any]) -> list[RetentionRule]:
    """The retention schedule, in the order the notice and the report list it."""
    cycles = config["RETENTION_ANSWER_CYCLES"]
    former_years = config["RETENTION_FORMER_AGENT_YEARS"]
    return [
        RetentionRule("sessions", "Sign-in sessions (times, browser, second factor used)",
                      f"{config['RETENTION_SESSIONS_DAYS']} days after the session ends",
                      config["RETENTION_SESSIONS_DAYS"], "deleted", "RETENTION_SESSIONS_DAYS"),
        RetentionRule("failed_sign_ins", "Failed sign-ins and probing records (address, time)",
                      f"{config['RETENTION_FAILED_SIGN_INS_DAYS']} days", config["RETENTION_FAILED_SIGN_INS_DAYS"],
                      "the personal fields are deleted; the audit event stays, pseudonymous",
                      "RETENTION_FAILED_SIGN_INS_DAYS"),
        RetentionRule("export_files", "Export files (certificate ZIPs, evidence packs)",
                      f"{config['RETENTION_EXPORT_FILES_DAYS']} days after they were made",
                      config["RETENTION_EXPORT_FILES_DAYS"], "deleted", "RETENTION_EXPORT_FILES_DAYS"),
        RetentionRule("sent_emails", "Sent e-mails (reminders, digests, checkpoints)",
                      f"{config['RETENTION_SENT_EMAILS_DAYS']} days after sending",
                      config["RETENTION_SENT_EMAILS_DAYS"], "deleted", "RETENTION_SENT_EMAILS_DAYS"),
        RetentionRule("quiz_answers", "Quiz answers (the options chosen)",
                      f"{cycles} certification cycles: answers older than the person's last {cycles} awards "
                      "of that programme", None, "deleted; scores and results stay", "RETENTION_ANSWER_CYCLES"),
        RetentionRule("former_agents", "Former agents (deactivated accounts)",
                      f"the longest certification validity plus {former_years} years after deactivation", None,
                      "pseudonymised: name, e-mail and addresses erased; training evidence kept under a pseudonym",
                      "RETENTION_FORMER_AGENT_YEARS"),
        RetentionRule("audit_personal", "Personal fields of audit events (who, from which address)",
                      "as long as the person they name is kept", None,
                      "deleted with the person; the event and its proof stay"),
    ]


# The categories of data subjects (Art. 30(1)(c)).
AGENTS = "agents (the controller's own and its outsourcing partners' contact-centre staff)"
STAFF = "trainers, administrators and auditors who use the academy"
VISITORS = "anyone who signs in or checks a certificate on the public verification page (address only)"


def purposes(config: Mapping[str, Any]) -> list[Purpose]:
    """The purposes of the processing, each with its lawful basis, data, data subjects and retention."""
    basis = LAWFUL_BASES.get(config["PRIVACY_LAWFUL_BASIS"])
    if basis is None:
        raise ConfigError(f"PRIVACY_LAWFUL_BASIS={config['PRIVACY_LAWFUL_BASIS']!r} must be 'c' or 'f'")
    return [
        Purpose("Training and certifying agents in data protection", basis,
                "name, work e-mail, organisation, role, lesson progress, quiz answers and scores, awards",
                AGENTS, ("quiz_answers", "former_agents")),
        Purpose("Proving the training to auditors and clients (Art. 5(2) accountability)", basis,
                "the training records above, certificates, evidence packs, the audit log",
                f"{AGENTS}; {STAFF}", ("export_files", "former_agents", "audit_personal")),
        Purpose("Reminding people of training that is due or expiring", basis, "name, work e-mail, due dates",
                AGENTS, ("sent_emails",)),
        Purpose("Keeping the service secure (sign-in, sessions, abuse detection)",
                LAWFUL_BASES["f"] if config["PRIVACY_LAWFUL_BASIS"] != "f" else basis,
                "sign-in times, IP addresses, browser (user agent), failed sign-ins, second factors",
                f"{AGENTS}; {STAFF}; {VISITORS}", ("sessions", "failed_sign_ins", "audit_personal")),
    ]


def recipients(config: Mapping[str, Any]) -> list[str]:
    return [
        "The controller's trainers and administrators, and its auditors (company-wide or for one partner)",
        "The agent's employer, where it is an outsourcing partner: its administrators and auditors see its own agents",
        "The controller's clients and external auditors, in evidence packs",
        *([config["PRIVACY_OTHER_RECIPIENTS"]] if config["PRIVACY_OTHER_RECIPIENTS"] else []),
    ]


RIGHTS: tuple[str, ...] = (
    "Access (Art. 15): download your data yourself from Your account → My data",
    "Rectification (Art. 16): ask an administrator to correct your name or e-mail; certificates can be re-issued",
    "Erasure (Art. 17): your personal data is erased and your training evidence kept under a pseudonym, as the "
    "controller must keep it (Art. 17(3)(b) and (e))",
    "Restriction (Art. 18) and objection (Art. 21): your data is kept but no longer used for reminders or analysis",
    "Complaint to a supervisory authority (Art. 77)",
)


# The technical and organisational security measures (Arts 30(1)(g) and 32(1)), as
# docs/security.md describes and the test suite proves them.
SECURITY_MEASURES: tuple[str, ...] = (
    "Passwords hashed with Argon2id; common passwords refused; sign-in throttled per account and per "
    "address, without permanent lock-out",
    "Sessions kept on the server with idle and absolute expiry, ended for good at sign-out, deactivation "
    "and password change; a second factor (authenticator app or passkey) required for the roles configured",
    "One access policy for every page and download: agents see only their own records, a partner's auditors "
    "only that partner's agents, auditors change nothing; tested for every role and route",
    "Encryption in transit (HTTPS, HSTS, Secure cookies); second-factor secrets encrypted at rest; "
    "a Content-Security-Policy and CSRF protection on every change",
    "Certificates and reports signed (PAdES); PDFs rendered in a separate, time- and memory-limited process "
    "that loads nothing from outside",
    "An append-only audit log of sign-ins, refused access, exports and downloads, sealed in a Merkle tree "
    "with signed checkpoints kept outside the database; its personal fields can be erased without breaking it",
    "Uploads checked by content and re-encoded; untrusted files parsed with limits on size, depth and time",
    "Data minimised by a retention schedule applied daily, and erasure under a pseudonym on request",
)


def controller(config: Mapping[str, Any]) -> dict[str, str]:
    return {"name": config["PRIVACY_CONTROLLER_NAME"], "contact": config["PRIVACY_CONTROLLER_CONTACT"],
            "dpo": config["PRIVACY_DPO_CONTACT"], "transfers": config["PRIVACY_TRANSFERS"]}


def article_15_information(config: Mapping[str, Any]) -> dict[str, Any]:
    """The information Art. 15(1) requires alongside a copy of the data, as JSON-ready data."""
    return {
        "controller": controller(config),
        "purposes": [{"purpose": p.name, "lawful_basis": p.lawful_basis, "data": p.data} for p in purposes(config)],
        "recipients": recipients(config),
        "retention": [{"data": r.label, "period": r.period, "then": r.what_happens}
                      for r in retention_schedule(config)],
        "rights": list(RIGHTS),
        "source": "From you, your employer (your account and organisation) and your use of the academy "
                  "(progress, answers, scores, awards). No automated decision with legal effect is made: "
                  "a certificate follows from a quiz score a trainer set.",
    }
