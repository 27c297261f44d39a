"""Erasure (Art. 17) under a pseudonym: the person's data goes, the training evidence stays.

The controller must be able to show that its agents were trained (Arts 5(2), 24, 39), so
the evidence is kept under Art. 17(3)(b) and (e): attempts, scores, awards, the content
versions they pinned, revocations and the audit events. Everything else that identifies the
person is deleted, or replaced by their pseudonym ("Agent P-002A", lms/pseudonyms.py)
where a record must keep a name. The audit log keeps only commitments to personal fields,
so deleting those fields breaks no proof.

`plan(person)` is the dry run: each data class with how many rows it holds, and what happens
to it and why. `erase(...)` applies the same classes and returns the same plan as the report,
so what was shown is what is done. It only flushes: run as a job (lms/privacy/erasure_job.py),
the erasure and its report commit together, and a retry after a crash finishes the work.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, or_, select, update

from lms.accounts.models import LoginSession, SetPasswordToken, User
from lms.pseudonyms import pseudonym
from lms.assessment.models import Answer, Attempt
from lms.audit.models import AuditEvent, AuditPersonal, ProbeTally
from lms.audit.services import erase_personal_data, personal_rows_of, record
from lms.certification.models import Award, Enrolment
from lms.clock import now
from lms.credentials.models import OpenBadge
from lms.evidence.models import Certificate
from lms.extensions import db
from lms.i18n import date_local
from lms.jobs.models import Job, JobFile
from lms.learning.models import LessonProgress
from lms.mfa.models import Passkey, RecoveryCode, TotpFactor, WebAuthnChallenge
from lms.privacy.breaches import Breach
from lms.privacy.requests import DataRequest
from lms.reminders.models import Message
from lms.xapi import outbox as xapi_outbox



def N_(text: str) -> str:
    """Marks a description for the translators: it stays English in what is recorded (the audit
    event, the JSON report) and is translated where a page or the text report shows it."""
    return text


LEGAL_BASIS = N_("Art. 17(3)(b) and (e) and Art. 5(2): the controller must be able to show that its agents were "
                 "trained, and to defend claims about it")
EVIDENCE_BASIS = N_("training evidence, kept under the pseudonym")
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be a real address


class ErasureError(ValueError):
    """This erasure may not run (the person asked to erase themselves, or is already erased)."""


@dataclass(frozen=True)
class Entry:
    """One data class of a person: how many rows, and what happens to them and why."""

    what: str
    count: int
    outcome: str


@dataclass(frozen=True)
class ErasurePlan:
    user_id: int
    pseudonym: str
    new_name: str  # the name the account keeps: "Agent P-002A"
    goes: list[Entry]
    stays: list[Entry]

    def as_report(self) -> dict[str, Any]:
        """JSON-ready, without the erased data: the pseudonym and counts only."""
        return {"user_id": self.user_id, "pseudonym": self.pseudonym, "name_now": self.new_name,
                "erased": [vars(e) for e in self.goes], "kept": [vars(e) for e in self.stays],
                "legal_basis_for_what_is_kept": LEGAL_BASIS}


@dataclass(frozen=True)
class _Class:
    what: str
    outcome: str
    count: Callable[[User], int]
    apply: Callable[[User, str], None] | None  # None: kept as it is


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _mentions(column, person: User):
    return or_(func.lower(column).contains(person.email.lower(), autoescape=True),
               func.lower(column).contains(person.name.lower(), autoescape=True))


def _replace_mentions(model, column_name: str, person: User, pseudonymous: str) -> None:
    """Free text that names the person (another person's e-mail, a revocation reason) gets the pseudonym."""
    column = getattr(model, column_name)
    # Case-insensitive, as SQLite's LIKE matched: "YASMINE EL IDRISSI" in a digest goes too.
    mention = re.compile("|".join(re.escape(part) for part in (person.email, person.name)), re.IGNORECASE)
    for row in db.session.scalars(select(model).where(_mentions(column, person))):
        setattr(row, column_name, mention.sub(pseudonymous, getattr(row, column_name)))


def _replace_register_notes(person: User, pseudonymous: str) -> None:
    for model, columns in _REGISTER_NOTES:
        for column_name in columns:
            _replace_mentions(model, column_name, person, pseudonymous)


# Free text staff write in the registers, where a person may be named.
_REGISTER_NOTES = ((DataRequest, ("identity_check", "extension_reason", "outcome")),
                   (Breach, ("title", "facts", "subject_categories", "record_categories", "consequences", "measures",
                             "authority_delay_reason", "authority_not_required_reason",
                             "subjects_not_informed_reason")))


def _own_exports(person: User) -> Select:
    """Export files that may list the person: their organisation's and company-wide ones."""
    return (select(JobFile.id).join(Job, Job.id == JobFile.job_id)
            .where(or_(Job.organisation_id == person.organisation_id, Job.organisation_id.is_(None))))


def _identity(person: User, new_name: str) -> None:
    person.name = new_name
    person.email = f"{pseudonym(person.id).lower()}@{ERASED_DOMAIN}"
    # The employer's number identifies the person as surely as a name; a team narrows it to a few.
    person.employee_id = None
    person.team = None
    person.password_hash = None
    person.active = False
    person.deactivated_at = person.deactivated_at or now()
    person.erased_at = now()


def _delete(*queries: Callable[[User], Any]) -> Callable[[User, str], None]:
    def apply(person: User, _: str) -> None:
        for query in queries:
            db.session.execute(query(person).execution_options(synchronize_session=False))
    return apply


def _by_user(model) -> Callable[[User], Select]:
    return lambda person: select(model.id).where(model.user_id == person.id)


CLASSES: tuple[_Class, ...] = (
    _Class(N_("Name and e-mail address"), N_("replaced by the pseudonym; the account is closed"), lambda p: 1,
           _identity),
    _Class(N_("Password and second factors (authenticator app, recovery codes, passkeys)"), N_("deleted"),
           lambda p: int(p.password_hash is not None) + sum(_count(_by_user(m)(p)) for m in
                                                           (TotpFactor, RecoveryCode, Passkey, WebAuthnChallenge)),
           _delete(*(lambda p, m=m: delete(m).where(m.user_id == p.id)
                     for m in (TotpFactor, RecoveryCode, Passkey, WebAuthnChallenge)))),
    _Class(N_("Sign-in sessions (times, browser)"), N_("deleted"), lambda p: _count(_by_user(LoginSession)(p)),
           _delete(lambda p: delete(LoginSession).where(LoginSession.user_id == p.id))),
    _Class(N_("Set-password and reset links"), N_("deleted"), lambda p: _count(_by_user(SetPasswordToken)(p)),
           _delete(lambda p: delete(SetPasswordToken).where(SetPasswordToken.user_id == p.id))),
    _Class(N_("E-mails sent to them"), N_("deleted"),
           lambda p: _count(select(Message.id).where(Message.recipient == p.email)),
           _delete(lambda p: delete(Message).where(Message.recipient == p.email))),
    _Class(N_("Mentions in e-mails to others (weekly digests)"), N_("their name and e-mail replaced by the pseudonym"),
           lambda p: _count(select(Message.id).where(Message.recipient != p.email, _mentions(Message.body, p))),
           lambda p, name: _replace_mentions(Message, "body", p, name)),
    _Class(N_("Personal fields of audit events (who, from which address, about whom)"),
           N_("deleted; the events stay, pseudonymous, and every proof still verifies"),
           lambda p: _count(select(AuditPersonal.event_seq).where(personal_rows_of(p.id))),
           lambda p, _: erase_personal_data(p.id)),
    _Class(N_("Probe counters (requests refused or throttled)"), N_("deleted"),
           lambda p: _count(select(ProbeTally.id).where(ProbeTally.actor_id == p.id)),
           _delete(lambda p: delete(ProbeTally).where(ProbeTally.actor_id == p.id))),
    _Class(N_("Stored certificate PDFs (they print the name)"),
           N_("deleted; their SHA-256 and signing key stay, so a copy the person kept still verifies"),
           lambda p: _count(select(Certificate.id).join(Award).where(Award.user_id == p.id,
                                                                     Certificate.pdf.is_not(None))),
           _delete(lambda p: update(Certificate).where(Certificate.award_id.in_(
               select(Award.id).where(Award.user_id == p.id))).values(pdf=None))),
    _Class(N_("Stored Open Badges (a salted hash of their e-mail)"),
           N_("deleted; their SHA-256 stays, so a badge the person kept still verifies"),
           lambda p: _count(select(OpenBadge.id).join(Award).where(Award.user_id == p.id, OpenBadge.jwt.is_not(None))),
           _delete(lambda p: update(OpenBadge).where(OpenBadge.award_id.in_(
               select(Award.id).where(Award.user_id == p.id))).values(jwt=None))),
    _Class(N_("xAPI statements in the outbox (what they learned; their e-mail where the organisation sends it)"),
           N_("their content deleted; those not sent yet are never sent (copies an LRS received are its own to erase)"),
           lambda p: _count(xapi_outbox.statements_of(p)), lambda p, _: xapi_outbox.forget(p)),
    _Class(N_("Export files of their organisation (they may list them)"), N_("deleted; they can be exported again"),
           lambda p: _count(_own_exports(p)),
           _delete(lambda p: delete(JobFile).where(JobFile.id.in_(_own_exports(p))))),
    _Class(N_("Revocation reasons that name them"), N_("their name and e-mail replaced by the pseudonym"),
           lambda p: _count(select(Award.id).where(_mentions(Award.revoke_reason, p))),
           lambda p, name: _replace_mentions(Award, "revoke_reason", p, name)),
    _Class(N_("Notes in the requests and breach registers that name them"), N_("their name and e-mail replaced by the "
           "pseudonym; the registers keep their entries, as the controller must (Arts 5(2), 33(5))"),
           lambda p: sum(_count(select(model).where(or_(*(_mentions(getattr(model, c), p) for c in columns))))
                         for model, columns in _REGISTER_NOTES),
           _replace_register_notes),
)

KEPT: tuple[_Class, ...] = (
    _Class(N_("Quiz attempts, answers and scores"), EVIDENCE_BASIS,
           lambda p: _count(select(Answer.id).join(Attempt).where(Attempt.user_id == p.id))
           + _count(select(Attempt.id).where(Attempt.user_id == p.id)), None),
    _Class(N_("Lesson progress"), EVIDENCE_BASIS,
           lambda p: _count(select(LessonProgress.id).where(LessonProgress.user_id == p.id)), None),
    _Class(N_("Awards, revocations and the content versions they pinned"), EVIDENCE_BASIS,
           lambda p: _count(select(Award.id).where(Award.user_id == p.id)), None),
    _Class(N_("Programme enrolments"), EVIDENCE_BASIS,
           lambda p: _count(select(Enrolment.id).where(Enrolment.user_id == p.id)), None),
    _Class(N_("Audit events by or about them"), N_("kept without their personal fields; the log's proofs hold only "
           "salted commitments to those fields"),
           lambda p: _count(select(AuditEvent.seq).where(or_(
               AuditEvent.actor_id == p.id, (AuditEvent.target_type == "user") & (AuditEvent.target_id == str(p.id))))),
           None),
)


def new_name(person: User) -> str:
    return f"{person.role.label} {pseudonym(person.id)}"


def plan(person: User) -> ErasurePlan:
    """The dry run: every data class of the person, with its row count and what erasure does to it."""
    return ErasurePlan(person.id, pseudonym(person.id), new_name(person),
                       [Entry(c.what, c.count(person), c.outcome) for c in CLASSES],
                       [Entry(c.what, c.count(person), c.outcome) for c in KEPT])


def check_may_erase(person: User, requested_by: User | None) -> None:
    """`requested_by` None is the retention job (lms/privacy/retention.py)."""
    if requested_by is not None and person.id == requested_by.id:
        raise ErasureError(_("You cannot erase your own account; another administrator must."))
    if person.erased_at is not None:
        raise ErasureError(_("This person's data was already erased on %(date)s.", date=date_local(person.erased_at)))


def erase(person: User, *, requested_by: User | None, reference: str = "") -> ErasurePlan:
    """Erase the person's data as `plan` describes; the plan as it was before is the report. Flushes.

    Records `privacy.erased` (the pseudonym, the request's reference and the counts: nothing
    erased). Raises ErasureError if `check_may_erase` refuses.
    """
    check_may_erase(person, requested_by)
    report = plan(person)
    name = new_name(person)
    # Mentions are replaced while the old name and e-mail are still known: identity goes last.
    for data_class in (*CLASSES[1:], CLASSES[0]):
        if data_class.apply is not None:
            data_class.apply(person, name)
    db.session.flush()
    record("privacy.erased", actor=requested_by, target=person, pseudonym=report.pseudonym, reference=reference,
           erased={e.what: e.count for e in report.goes}, kept={e.what: e.count for e in report.stays})
    return report
