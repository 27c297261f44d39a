"""Agent transcripts: one agent's whole training record as a signed PDF/A-3b with its data as JSON.

A transcript lists every course version the agent completed, every quiz attempt (with its
duration and its score overall and per call phase), every award with its cycle and any
revocation, and the audit chain head when it was generated. It is rendered on request, never
stored: the record may grow, and the audit event of each export (views.transcript_pdf) keeps
the SHA-256 of the file that was handed out.

Queries are fixed in number whatever the length of the record (one per kind of row).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from lms.accounts.models import User
from lms.assessment.models import Attempt, AttemptStatus
from lms.audit.publishing import for_documents
from lms.certification.models import Award
from lms.clock import now
from lms.evidence import documents, renderer, signing
from lms.evidence.branding import current_branding
from lms.evidence.certificates import award_status
from lms.extensions import db
from lms.learning.models import CourseVersion, Lesson, LessonProgress, QuizVersion

# The call phases in the order a call goes through them; any other phase follows, by name.
PHASE_ORDER = ("before", "during", "after")
# Rendering limits: a long-serving agent's record is still a few pages; this is generous.
RENDER_TIMEOUT_S = 60
RENDER_MEMORY_MB = 512


def transcript_data(person: User, *, generated_by: User, at: datetime | None = None) -> dict[str, Any]:
    """Everything the transcript states about `person`, as JSON-ready data (ISO dates, UTC).

    `generated_by` is the user asking (named in the document); it is not a permission check:
    the caller decides who may see whose transcript (policy.can_view_user).
    """
    at = at or now()
    return {
        "document": "agent-transcript",
        "generated_at": at.isoformat(),
        "generated_by": {"name": generated_by.name, "email": generated_by.email, "role": generated_by.role.value},
        "audit_checkpoint": for_documents(),
        "agent": {"id": person.id, "name": person.name, "email": person.email,
                  "organisation": person.organisation.name, "active": person.active},
        "courses": _completed_courses(person.id),
        "attempts": _attempts(person.id),
        "awards": _awards(person.id, at),
    }


def render_transcript(data: dict[str, Any], *, language: str = "en", time_zone: str | None = None) -> bytes:
    """The transcript of `transcript_data` as a signed PDF/A-3b with the data attached as JSON,
    in `language` with times in `time_zone` (the agent's: lms.i18n.user_language, agent_time_zone)."""
    branding = current_branding()
    html = documents.render_document("pdf/transcript.html", dict(
        asset_base=renderer.STATIC_PDF_DIR.as_uri() + "/", data=data, phases=_phases(data["attempts"]),
        brand=documents.document_brand(branding.company_name, branding.primary_colour, branding.logo), **FORMATTERS),
        language=language, time_zone=time_zone)
    attachment = renderer.Attachment(name="transcript.json", data=json.dumps(data, indent=2).encode("utf-8"),
                                mime_type="application/json",
                                description="The transcript's data, machine-readable")
    rendered = renderer.render_pdf(html, attachments=[attachment], timeout_s=RENDER_TIMEOUT_S,
                              max_memory_mb=RENDER_MEMORY_MB)
    return signing.sign_pdf(rendered, signing.signer_from_config(current_app.config),
                            reason="Training transcript issued by CallSafe Academy")


# --- the record ---------------------------------------------------------------------------------


def _completed_courses(user_id: int) -> list[dict[str, Any]]:
    """Each course version whose lessons the agent has all read, with when the last one was read.

    Reading progress is kept per lesson (not per version) and carries over to new versions, so
    a version counts as completed when every lesson in it has been read, in it or an earlier
    one. The progress row keeps the latest reading of a lesson; the versions that earned each
    award stay listed with the award.
    """
    progress = db.session.execute(select(
        LessonProgress.course_id, LessonProgress.lesson_key, LessonProgress.course_version_id,
        LessonProgress.completed_at).where(LessonProgress.user_id == user_id)).all()
    if not progress:
        return []
    read: dict[int, dict[str, datetime]] = {}  # course id -> lesson key -> read at
    for row in progress:
        read.setdefault(row.course_id, {})[row.lesson_key] = row.completed_at
    versions: dict[int, dict[str, Any]] = {}
    rows = db.session.execute(
        select(CourseVersion.id, CourseVersion.course_id, CourseVersion.title, CourseVersion.content_hash,
               Lesson.key)
        .join(Lesson, Lesson.course_version_id == CourseVersion.id)
        .where(CourseVersion.id.in_(sorted({row.course_version_id for row in progress}))))
    for row in rows:
        version = versions.setdefault(row.id, {"course_id": row.course_id, "title": row.title,
                                               "hash": row.content_hash, "keys": set()})
        version["keys"].add(row.key)
    courses = []
    for version in versions.values():
        lessons = read.get(version["course_id"], {})
        if version["keys"] <= lessons.keys():
            courses.append({"title": version["title"], "version": version["hash"][:12],
                            "content_hash": version["hash"], "lessons": len(version["keys"]),
                            "completed_at": max(lessons[k] for k in version["keys"]).isoformat()})
    return sorted(courses, key=lambda c: (c["completed_at"], c["title"]))


def _attempts(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Attempt, QuizVersion.title, QuizVersion.content_hash)
        .join(QuizVersion, QuizVersion.id == Attempt.quiz_version_id)
        .where(Attempt.user_id == user_id).order_by(Attempt.started_at, Attempt.id)).all()
    attempts = []
    for attempt, title, content_hash in rows:
        finished = attempt.status is not AttemptStatus.IN_PROGRESS
        duration = (attempt.finished_at - attempt.started_at).total_seconds() if attempt.finished_at else None
        attempts.append({
            "id": attempt.id, "quiz": title, "version": content_hash[:12], "status": attempt.status.value,
            "started_at": attempt.started_at.isoformat(),
            "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None,
            "duration_seconds": round(duration) if duration is not None else None,
            "percent": attempt.percent if finished else None,
            "passed": attempt.passed if finished else None,
            "phases": {phase: scores["percent"] for phase, scores in (attempt.phase_scores or {}).items()}
            if finished else {},
            "regraded_at": attempt.regraded_at.isoformat() if attempt.regraded_at else None,
        })
    return attempts


def _awards(user_id: int, at: datetime) -> list[dict[str, Any]]:
    revoker = aliased(User)
    rows = db.session.execute(
        select(Award, revoker.name, revoker.email)
        .outerjoin(revoker, revoker.id == Award.revoked_by_id)
        .options(joinedload(Award.programme_version))
        .where(Award.user_id == user_id).order_by(Award.issued_at, Award.id)).all()
    cycles: dict[int, int] = {}
    awards = []
    for award, revoked_by_name, revoked_by_email in rows:
        # The cycle: the how-manieth award of this programme the agent earned.
        cycles[award.programme_id] = cycles.get(award.programme_id, 0) + 1
        evidence = award.evidence or {}
        awards.append({
            "id": award.id, "programme": award.programme_version.title,
            "programme_version": award.programme_version.content_hash[:12],
            "cycle": cycles[award.programme_id],
            "issued_at": award.issued_at.isoformat(), "valid_until": award.valid_until.isoformat(),
            "recertification_opens_at": award.window_opens_at.isoformat(),
            "grace_until": award.grace_until.isoformat(),
            "verification_code": award.verification_code, "status": award_status(award, at),
            "courses": [{"title": c["title"], "version": c["version"]} for c in evidence.get("courses", [])],
            "quizzes": [{"title": q["title"], "version": q["version"], "percent": q["percent"],
                         "attempt": q.get("attempt")} for q in evidence.get("quizzes", [])],
            "revocation": None if award.revoked_at is None else {
                "revoked_at": award.revoked_at.isoformat(),
                "revoked_by": revoked_by_name or "system", "revoked_by_email": revoked_by_email,
                "reason": award.revoke_reason or "",
            },
        })
    return awards


def _phases(attempts: list[dict[str, Any]]) -> list[str]:
    seen = {phase for attempt in attempts for phase in attempt["phases"]}
    return [p for p in PHASE_ORDER if p in seen] + sorted(seen - set(PHASE_ORDER))


# --- presentation, shared with the evidence pack -------------------------------------------------


def format_date(value: str | None) -> str:
    """An ISO timestamp from the data as "12 Mar 2026" (an empty string for None)."""
    return datetime.fromisoformat(value).strftime("%d %b %Y") if value else ""


def format_datetime(value: str | None) -> str:
    """An ISO timestamp from the data as "12 Mar 2026 14:05" (UTC, as stored)."""
    return datetime.fromisoformat(value).strftime("%d %b %Y %H:%M") if value else ""


def format_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} %" if float(value) == int(value) else f"{value:.1f} %"


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


# The templates format values with these (our PDF Jinja environment has no Flask filters).
FORMATTERS = {"date": format_date, "datetime": format_datetime, "percent": format_percent,
              "duration": format_duration}
