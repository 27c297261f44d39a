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

    key: str  # also the suffix of its RETENTION_<KEY> setting
    label: str
    period: str  # for people: "30 days after the session ends"
    days: int | None  # the number the job uses; None where the period is counted otherwise
    what_happens: str  # deleted, or pseudonymised


@dataclass(frozen=True)
class Purpose:
    name: str
    lawful_basis: str
    data: str  # the categories of personal data used for it


def retention_schedule(config: Mapping[str, Any]) -> list[RetentionRule]:
    """The retention schedule, in the order the notice and the report list it."""
    cycles = config["RETENTION_ANSWER_CYCLES"]
    former_years = config["RETENTION_FORMER_AGENT_YEARS"]
    return [
        RetentionRule("sessions", "Sign-in sessions (times, browser, second factor used)",
                      f"{config['RETENTION_SESSIONS_DAYS']} days after the session ends",
                      config["RETENTION_SESSIONS_DAYS"], "deleted"),
        RetentionRule("failed_sign_ins", "Failed sign-ins and probing records (address, time)",
                      f"{config['RETENTION_FAILED_SIGN_INS_DAYS']} days", config["RETENTION_FAILED_SIGN_INS_DAYS"],
                      "the personal fields are deleted; the audit event stays, pseudonymous"),
        RetentionRule("export_files", "Export files (certificate ZIPs, evidence packs)",
                      f"{config['RETENTION_EXPORT_FILES_DAYS']} days after they were made",
                      config["RETENTION_EXPORT_FILES_DAYS"], "deleted"),
        RetentionRule("sent_emails", "Sent e-mails (reminders, digests, checkpoints)",
                      f"{config['RETENTION_SENT_EMAILS_DAYS']} days after sending",
                      config["RETENTION_SENT_EMAILS_DAYS"], "deleted"),
        RetentionRule("quiz_answers", "Quiz answers (the options chosen)",
                      f"{cycles} certification cycles: answers older than the person's last {cycles} awards "
                      "of that programme", None, "deleted; scores and results stay"),
        RetentionRule("former_agents", "Former agents (deactivated accounts)",
                      f"the longest certification validity plus {former_years} years after deactivation", None,
                      "pseudonymised: name, e-mail and addresses erased; training evidence kept under a pseudonym"),
        RetentionRule("audit_personal", "Personal fields of audit events (who, from which address)",
                      "as long as the person they name is kept", None,
                      "deleted with the person; the event and its proof stay"),
    ]


def purposes(config: Mapping[str, Any]) -> list[Purpose]:
    basis = LAWFUL_BASES.get(config["PRIVACY_LAWFUL_BASIS"])
    if basis is None:
        raise ConfigError(f"PRIVACY_LAWFUL_BASIS={config['PRIVACY_LAWFUL_BASIS']!r} must be 'c' or 'f'")
    return [
        Purpose("Training and certifying agents in data protection", basis,
                "name, work e-mail, organisation, role, lesson progress, quiz answers and scores, awards"),
        Purpose("Proving the training to auditors and clients (Art. 5(2) accountability)", basis,
                "the training records above, certificates, evidence packs, the audit log"),
        Purpose("Reminding people of training that is due or expiring", basis, "name, work e-mail, due dates"),
        Purpose("Keeping the service secure (sign-in, sessions, abuse detection)",
                LAWFUL_BASES["f"] if config["PRIVACY_LAWFUL_BASIS"] != "f" else basis,
                "sign-in times, IP addresses, browser (user agent), failed sign-ins, second factors"),
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
