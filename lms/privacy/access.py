"""A person's copy of their data (GDPR Art. 15): "My data", a ZIP they or an admin download.

The ZIP holds `my-data.json` (everything the app keeps about the person, machine-readable,
with the Art. 15(1) information), `summary.pdf` (the same for people to read, signed like
the transcript) and `certificates/<code>.pdf` (each certificate as it was issued and stored).

Other people stay out of it. Whoever acted on the person (created the account, revoked an
award, issued a password link) appears as their role and organisation, never by name or
e-mail; only the person's own IP addresses are included; digests and checkpoint e-mails,
which list other people, are listed without their body; the organisation's contact
address is left out (it may be a person's).

Queries are fixed in number whatever the size of the record (one per kind of row).
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import aliased

from lms.accounts.models import LoginSession, Organisation, SetPasswordToken, User
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.assessment.services import published
from lms.audit.models import AuditEvent, AuditPersonal
from lms.certification.models import Award, Enrolment, Programme, ProgrammeVersion
from lms.clock import now
from lms.evidence import documents, renderer, signing
from lms.evidence.branding import current_branding
from lms.evidence.certificates import agent_time_zone, award_status
from lms.evidence.models import Certificate
from lms.evidence.transcript import FORMATTERS
from lms.extensions import db
from lms.i18n import user_language
from lms.learning.models import CourseVersion, Lesson, LessonProgress, QuizVersion
from lms.mfa.models import Passkey, RecoveryCode, TotpFactor
from lms.privacy.processing import article_15_information
from lms.question_types import REGISTRY, question_type
from lms.reminders.models import Message, MessageKind

# Bodies that list other people (a partner's weekly digest, the audit checkpoint sent to
# auditors): the export says the e-mail was sent, not what it said about them.
BODY_WITHHELD = frozenset({MessageKind.DIGEST, MessageKind.AUDIT_CHECKPOINT})
# Rendering limits, as for the transcript: a long record is still a few dozen pages.
RENDER_TIMEOUT_S = 60
RENDER_MEMORY_MB = 512


@dataclass(frozen=True)
class Export:
    """One "My data" download: the ZIP's name and bytes, its SHA-256 and what it counts."""

    filename: str
    content: bytes
    sha256: str
    counts: dict[str, int]


def export(person: User, *, requested_by: User, config: Mapping[str, Any], at: datetime | None = None) -> Export:
    """Collect, render and pack `person`'s data. Reads only; the caller audits and commits.

    Not a permission check: the view decides who may export whose data (policy.can_view_user).
    Raises RenderError or SigningError when the summary cannot be produced.
    """
    at = at or now()
    data = person_data(person, requested_by=requested_by, config=config, at=at)
    # The summary is the person's to read: their language and zone, whoever downloads it.
    summary = render_summary(data, language=user_language(person), time_zone=agent_time_zone(person))
    certificates = certificate_files(person.id)
    content = pack(data, summary, certificates, at)
    return Export(filename=f"my-data-{at:%Y-%m-%d}.zip", content=content,
                  sha256=hashlib.sha256(content).hexdigest(), counts=data["counts"])


def person_data(person: User, *, requested_by: User, config: Mapping[str, Any],
                at: datetime | None = None) -> dict[str, Any]:
    """Everything held about `person`, JSON-ready (ISO times, UTC), and the Art. 15(1) information.

    `requested_by` is only described by role (the person themselves, or an administrator
    answering their request), so the export never names the staff member who made it.
    """
    at = at or now()
    attempts = _attempts(person.id)
    data = {
        "document": "my-data",
        "format_version": 1,
        "generated_at": at.isoformat(),
        "requested_by": "you" if requested_by.id == person.id else _someone(requested_by.role.value,
                                                                            requested_by.organisation.name),
        "account": _account(person),
        "organisation": {"name": person.organisation.name, "kind": person.organisation.kind.label,
                         "country": person.organisation.country},
        "sign_in_sessions": _sessions(person.id),
        "second_factors": _second_factors(person.id),
        "password_links": _password_links(person.id),
        "lesson_progress": _lesson_progress(person.id),
        "programmes": _enrolments(person.id),
        "attempts": attempts,
        "awards": _awards(person.id, at),
        "emails": _emails(person.email),
        "audit_events": _audit_events(person.id),
        "information": article_15_information(config),
    }
    data["counts"] = {key: len(data[key]) for key in (
        "sign_in_sessions", "second_factors", "lesson_progress", "attempts", "awards", "emails", "audit_events")}
    data["counts"]["answers"] = sum(len(a["answers"]) for a in attempts)
    data["counts"]["certificates"] = sum(1 for a in data["awards"] if a["certificate"])
    return data


def render_summary(data: dict[str, Any], *, language: str = "en", time_zone: str | None = None) -> bytes:
    """The data of `person_data` as a signed PDF for people to read (PDF/A-3b), in `language` with
    times in `time_zone` (the person's)."""
    branding = current_branding()
    html = documents.render_document("pdf/my_data.html", dict(
        asset_base=renderer.STATIC_PDF_DIR.as_uri() + "/", data=data, document_answer=_document_answer,
        brand=documents.document_brand(branding.company_name, branding.primary_colour, branding.logo), **FORMATTERS),
        language=language, time_zone=time_zone)
    rendered = renderer.render_pdf(html, timeout_s=RENDER_TIMEOUT_S, max_memory_mb=RENDER_MEMORY_MB)
    return signing.sign_pdf(rendered, signing.signer_from_config(current_app.config),
                            reason="Copy of personal data (GDPR Art. 15) issued by CallSafe Academy")


def certificate_files(user_id: int) -> list[tuple[str, bytes]]:
    """Each stored certificate of the person's awards, revoked ones included: (ZIP path, PDF).

    Erasure deletes the stored PDFs (they carry the name) and keeps their hashes: those are left out.
    """
    rows = db.session.execute(select(Award.verification_code, Certificate.pdf)
                              .join(Certificate, Certificate.award_id == Award.id)
                              .where(Award.user_id == user_id, Certificate.pdf.is_not(None))
                              .order_by(Award.issued_at, Award.id))
    return [(f"certificates/{code}.pdf", document) for code, document in rows]


def pack(data: dict[str, Any], summary: bytes, certificates: list[tuple[str, bytes]], at: datetime) -> bytes:
    """The ZIP: my-data.json, summary.pdf and the certificates, every entry dated `at`."""
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        files = [("my-data.json", json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")),
                 ("summary.pdf", summary), *certificates]
        for name, content in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- the record -----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _someone(role: str | None, organisation: str | None) -> dict[str, str]:
    """Another person, as the export may describe them: by role and organisation only."""
    return {"role": role or "", "organisation": organisation or ""}


def _account(person: User) -> dict[str, Any]:
    return {
        "id": person.id, "name": person.name, "email": person.email, "role": person.role.value,
        "organisation": person.organisation.name, "employee_id": person.employee_id, "team": person.team,
        "audit_scope": person.scope_organisation.name if person.scope_organisation_id else None,
        "created_at": _iso(person.created_at), "active": person.active,
        "deactivated_at": _iso(person.deactivated_at), "password_set": person.password_hash is not None,
    }


def _sessions(user_id: int) -> list[dict[str, Any]]:
    # Never the token's hash: it is a credential's fingerprint, not information about the person.
    rows = db.session.execute(
        select(LoginSession.created_at, LoginSession.last_seen_at, LoginSession.expires_at,
               LoginSession.idle_expires_at, LoginSession.revoked_at, LoginSession.remember,
               LoginSession.user_agent, LoginSession.second_factor)
        .where(LoginSession.user_id == user_id).order_by(LoginSession.created_at, LoginSession.id))
    return [{"created_at": _iso(r.created_at), "last_seen_at": _iso(r.last_seen_at),
             "expires_at": _iso(r.expires_at), "idle_expires_at": _iso(r.idle_expires_at),
             "ended_at": _iso(r.revoked_at), "kept_signed_in": r.remember, "user_agent": r.user_agent,
             "second_factor": r.second_factor} for r in rows]


def _second_factors(user_id: int) -> list[dict[str, Any]]:
    """Each factor by kind and date; never a secret, a code's hash or a public key."""
    factors = [{"kind": "authenticator app (TOTP)", "name": "", "created_at": _iso(r.created_at),
                "confirmed_at": _iso(r.confirmed_at), "last_used_at": None}
               for r in db.session.execute(select(TotpFactor.created_at, TotpFactor.confirmed_at)
                                           .where(TotpFactor.user_id == user_id))]
    factors += [{"kind": "passkey", "name": r.name, "created_at": _iso(r.created_at), "confirmed_at": None,
                 "last_used_at": _iso(r.last_used_at)}
                for r in db.session.execute(select(Passkey.name, Passkey.created_at, Passkey.last_used_at)
                                            .where(Passkey.user_id == user_id).order_by(Passkey.created_at))]
    codes = db.session.execute(select(func.min(RecoveryCode.created_at), func.count(RecoveryCode.id),
                                      func.count(RecoveryCode.used_at), func.max(RecoveryCode.used_at))
                               .where(RecoveryCode.user_id == user_id)).one()
    if codes[1]:
        factors.append({"kind": f"recovery codes ({codes[1]}, {codes[2]} used)", "name": "",
                        "created_at": _iso(codes[0]), "confirmed_at": None, "last_used_at": _iso(codes[3])})
    return factors


def _password_links(user_id: int) -> list[dict[str, Any]]:
    issuer, issuer_org = aliased(User), aliased(Organisation)
    rows = db.session.execute(
        select(SetPasswordToken.kind, SetPasswordToken.created_at, SetPasswordToken.expires_at,
               SetPasswordToken.opened_at, SetPasswordToken.used_at, SetPasswordToken.created_by_id,
               issuer.role, issuer_org.name.label("issuer_organisation"))
        .outerjoin(issuer, issuer.id == SetPasswordToken.created_by_id)
        .outerjoin(issuer_org, issuer_org.id == issuer.organisation_id)
        .where(SetPasswordToken.user_id == user_id).order_by(SetPasswordToken.created_at, SetPasswordToken.id))
    return [{"kind": "reset requested by e-mail" if r.kind.value == "reset" else "set-password link",
             "issued_by": _actor(r.created_by_id, user_id, r.role, r.issuer_organisation),
             "created_at": _iso(r.created_at), "expires_at": _iso(r.expires_at), "opened_at": _iso(r.opened_at),
             "used_at": _iso(r.used_at)} for r in rows]


def _lesson_progress(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(LessonProgress.lesson_key, LessonProgress.completed_at, CourseVersion.title, CourseVersion.content_hash,
               Lesson.title.label("lesson_title"))
        .join(CourseVersion, CourseVersion.id == LessonProgress.course_version_id)
        .outerjoin(Lesson, and_(Lesson.course_version_id == LessonProgress.course_version_id,
                                Lesson.key == LessonProgress.lesson_key))
        .where(LessonProgress.user_id == user_id).order_by(LessonProgress.completed_at, LessonProgress.id))
    return [{"course": r.title, "course_version": r.content_hash[:12], "lesson": r.lesson_title or r.lesson_key,
             "completed_at": _iso(r.completed_at)} for r in rows]


def _enrolments(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Enrolment.assigned_at, Enrolment.due_at, Enrolment.mandatory, Enrolment.started_at,
               Enrolment.recert_due_at, ProgrammeVersion.title)
        .join(Programme, Programme.id == Enrolment.programme_id)
        .outerjoin(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
        .where(Enrolment.user_id == user_id).order_by(Enrolment.assigned_at, Enrolment.id))
    return [{"programme": r.title or "", "assigned_at": _iso(r.assigned_at), "due_at": _iso(r.due_at),
             "mandatory": r.mandatory, "started_at": _iso(r.started_at),
             "recertification_due_at": _iso(r.recert_due_at)} for r in rows]


def _attempts(user_id: int) -> list[dict[str, Any]]:
    """Every attempt with each question drawn and the person's own answer to it.

    The answer key stays out (it is the quiz's, not the person's, and an attempt in progress
    must not reveal it); points per answer only once the attempt is graded.
    """
    attempts = db.session.scalars(select(Attempt).where(Attempt.user_id == user_id)
                                  .order_by(Attempt.started_at, Attempt.id)).all()
    if not attempts:
        return []
    versions = {v.id: v for v in db.session.scalars(
        select(QuizVersion).where(QuizVersion.id.in_({a.quiz_version_id for a in attempts})))}
    saved: dict[int, dict[int, Answer]] = {}
    for answer in db.session.scalars(select(Answer).join(Attempt, Attempt.id == Answer.attempt_id)
                                     .where(Attempt.user_id == user_id)):
        saved.setdefault(answer.attempt_id, {})[answer.position] = answer
    result = []
    for attempt in attempts:
        version = versions[attempt.quiz_version_id]
        items = published(version).items
        finished = attempt.status is not AttemptStatus.IN_PROGRESS
        answers = saved.get(attempt.id, {})
        result.append({
            "id": attempt.id, "quiz": version.title, "version": version.content_hash[:12],
            "status": attempt.status.value, "started_at": _iso(attempt.started_at),
            "deadline": _iso(attempt.deadline), "finished_at": _iso(attempt.finished_at),
            "percent": attempt.percent if finished else None, "passed": attempt.passed if finished else None,
            "phases": {phase: s["percent"] for phase, s in (attempt.phase_scores or {}).items()} if finished else {},
            "regraded_at": _iso(attempt.regraded_at),
            "answers": [_answer(position, items.get(entry["item"]), entry["item"], answers.get(position), finished)
                        for position, entry in enumerate(attempt.draw, start=1)],
        })
    return result


def _answer(position: int, item: dict | None, item_id: str, answer: Answer | None, graded: bool) -> dict[str, Any]:
    response = answer.response if answer is not None else None
    entry: dict[str, Any] = {
        "position": position, "question_id": item_id, "type": item["type"] if item else "",
        "question": (item.get("prompt") or item.get("title") or "") if item else "",
        "response": response, "your_answer": _answer_text(item, response) if item else None,
        "saved_at": _iso(answer.saved_at) if answer is not None else None,
    }
    if graded:
        entry["earned"] = answer.earned if answer is not None else None
        entry["possible"] = answer.possible if answer is not None else None
    return entry


def _document_answer(entry: dict[str, Any]) -> tuple[Any, bool]:
    """An answer of the export as its PDF shows it: (the answer in the reader's language, whether
    its parts are numbered)."""
    qtype = REGISTRY.get(entry["type"])
    if qtype is None or entry["your_answer"] is None:
        return entry["your_answer"], False
    return qtype.answer_words(entry["your_answer"]), qtype.answer_numbered


def _answer_text(item: dict, response: Any) -> Any:
    """The answer in words, as the person saw the options (None when not answered)."""
    if response in (None, [], ""):
        return None
    return question_type(item).answer_text(item, response)


def _awards(user_id: int, at: datetime) -> list[dict[str, Any]]:
    revoker, revoker_org = aliased(User), aliased(Organisation)
    rows = db.session.execute(
        select(Award, ProgrammeVersion.title, ProgrammeVersion.content_hash, revoker.role,
               revoker_org.name.label("revoker_organisation"), Certificate.sha256,
               Certificate.pdf.is_not(None).label("pdf_kept"))
        .join(ProgrammeVersion, ProgrammeVersion.id == Award.programme_version_id)
        .outerjoin(revoker, revoker.id == Award.revoked_by_id)
        .outerjoin(revoker_org, revoker_org.id == revoker.organisation_id)
        .outerjoin(Certificate, Certificate.award_id == Award.id)
        .where(Award.user_id == user_id).order_by(Award.issued_at, Award.id)).all()
    awards = []
    for award, title, content_hash, revoker_role, revoker_organisation, certificate_sha256, pdf_kept in rows:
        evidence = award.evidence or {}
        awards.append({
            "id": award.id, "programme": title, "programme_version": content_hash[:12],
            "issued_at": _iso(award.issued_at), "valid_until": _iso(award.valid_until),
            "recertification_opens_at": _iso(award.window_opens_at), "grace_until": _iso(award.grace_until),
            "verification_code": award.verification_code, "status": award_status(award, at),
            "earned_with": {"courses": [{"title": c["title"], "version": c["version"]}
                                        for c in evidence.get("courses", [])],
                            "quizzes": [{"title": q["title"], "version": q["version"], "percent": q["percent"]}
                                        for q in evidence.get("quizzes", [])]},
            "reissued_from_award": award.reissued_from_id,
            "revocation": None if award.revoked_at is None else {
                "revoked_at": _iso(award.revoked_at), "reason": award.revoke_reason or "",
                "revoked_by": _actor(award.revoked_by_id, user_id, revoker_role, revoker_organisation),
            },
            "certificate": None if certificate_sha256 is None or not pdf_kept else {
                "file": f"certificates/{award.verification_code}.pdf", "sha256": certificate_sha256},
        })
    return awards


def _emails(email: str) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Message.kind, Message.subject, Message.body, Message.created_at, Message.sent_at, Message.error)
        .where(func.lower(Message.recipient) == email.lower()).order_by(Message.created_at, Message.id))
    return [{"kind": r.kind.label, "subject": r.subject, "queued_at": _iso(r.created_at), "sent_at": _iso(r.sent_at),
             "body": None if r.kind in BODY_WITHHELD else r.body,
             **({"body_withheld": "it lists other people"} if r.kind in BODY_WITHHELD else {})} for r in rows]


def _audit_events(user_id: int) -> list[dict[str, Any]]:
    """Events the person did, and events about them (their account, attempts, awards, certificates).

    The person's own IP address is included where kept; who else acted is given by role and
    organisation; a user they acted on is described the same way.
    """
    uid = str(user_id)
    about = or_(
        and_(AuditEvent.target_type == "user", AuditEvent.target_id == uid),
        and_(AuditEvent.target_type == "attempt", AuditEvent.target_id.in_(
            select(cast(Attempt.id, String)).where(Attempt.user_id == user_id))),
        and_(AuditEvent.target_type == "award", AuditEvent.target_id.in_(
            select(cast(Award.id, String)).where(Award.user_id == user_id))),
        and_(AuditEvent.target_type == "certificate", AuditEvent.target_id.in_(
            select(cast(Certificate.id, String)).join(Award, Award.id == Certificate.award_id)
            .where(Award.user_id == user_id))),
    )
    actor, actor_org = aliased(User), aliased(Organisation)
    rows = db.session.execute(
        select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.action,
               AuditEvent.target_type, AuditEvent.target_id, AuditEvent.data, AuditPersonal.ip,
               actor.role, actor_org.name.label("actor_organisation"))
        .outerjoin(AuditPersonal, AuditPersonal.event_seq == AuditEvent.seq)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(actor_org, actor_org.id == actor.organisation_id)
        .where(or_(AuditEvent.actor_id == user_id, about)).order_by(AuditEvent.seq)).all()
    others = {int(r.target_id) for r in rows
              if r.target_type == "user" and r.target_id != uid and r.target_id.isdigit()}
    described = {} if not others else {
        r.id: _someone(r.role.value, r.name) for r in db.session.execute(
            select(User.id, User.role, Organisation.name).join(Organisation, Organisation.id == User.organisation_id)
            .where(User.id.in_(others)))}
    events = []
    for r in rows:
        own = r.actor_id == user_id
        if r.target_type == "user" and r.target_id == uid:
            target: Any = "you"
        elif r.target_type == "user":
            person = described.get(int(r.target_id)) if r.target_id.isdigit() else None
            target = {"type": "another person", **(person or _someone(None, None))}
        else:
            target = {"type": r.target_type, "id": r.target_id} if r.target_type else None
        events.append({
            "seq": r.seq, "at": _iso(r.occurred_at), "action": r.action,
            "by": _actor(r.actor_id, user_id, r.role, r.actor_organisation), "target": target,
            # Only the person's own address: another's is theirs, not this person's.
            "ip": (r.ip or None) if own else None,
            "details": r.data or {},
        })
    return events


def _actor(actor_id: int | None, user_id: int, role: Any, organisation: str | None) -> Any:
    """Who did something: "you", "system" (nobody signed in), or another person by role and organisation."""
    if actor_id is None:
        return "system"
    if actor_id == user_id:
        return "you"
    return _someone(getattr(role, "value", role), organisation)
