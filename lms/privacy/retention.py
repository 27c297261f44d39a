"""The retention job: applies the schedule of lms/privacy/processing.py daily (registered with
lms/jobs/schedule.py below) and when asked (`flask lms retention run`).

Each data class is a few set-based statements, whatever the number of rows: a DELETE (or an
UPDATE) with the class's rule in its WHERE, and for a dry run the same WHERE in a COUNT. A
real run commits after each class, so a run that stops half-way leaves every class either
applied or untouched, and the next run finishes the work (each rule only selects what is
due, so running twice deletes nothing twice). It then records one `retention.applied` audit
event with the counts. The report holds counts only, nothing about anyone.

Former agents are the one class not done in set-based statements: each is erased under a
pseudonym by lms/privacy/erasure.py, one person per transaction, with the same classes and
the same `privacy.erased` event as an admin's erasure. Few cross the line on any one day. The
audit personal fields of erased people go with that erasure; the report lists that class with
a note rather than a count.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (ColumnElement, Delete, Integer, Select, Update, delete, exists, false, func, literal, or_,
                        select, union, union_all, update)

from lms.accounts.models import LoginSession, Role, SetPasswordToken, User
from lms.assessment.models import Answer, Attempt, AttemptStatus
from lms.audit.models import AuditEvent, AuditPersonal, ProbeTally
from lms.audit.services import record
from lms.certification.models import Award, Enrolment, ProgrammeVersion
from lms.certification.services import REISSUED
from lms.clock import now
from lms.extensions import db
from lms.jobs import schedule
from lms.jobs.models import Job, JobFile
from lms.learning.models import Quiz
from lms.privacy.erasure import erase
from lms.privacy.processing import retention_schedule
from lms.privacy.requests import add_months
from lms.reminders.models import Message

# Audit events whose personal fields (who, from which address) go after
# RETENTION_FAILED_SIGN_INS_DAYS: failed sign-ins and second factors, a wrong current password,
# refused access and the probing tallies. The events themselves stay in the tree.
FAILED_SIGN_IN_ACTIONS = ("auth.login_failed", "mfa.verify_failed", "auth.password_change_failed",
                          "access.denied", "security.probe")

# The class that erasure applies as a side effect (see the module docstring).
APPLIED_BY_ERASURE = {
    "audit_personal": "deleted with the person by erasure (lms/privacy/erasure.py), also by this job's former agents",
}


@dataclass(frozen=True)
class Sweep:
    """One statement of a class: what it acts on, the rows it selects, and the change it makes."""

    label: str  # "login sessions": what the report counts
    count: Select  # SELECT count(*) of the rows the change would touch (a dry run's answer)
    change: Delete | Update


@dataclass
class ClassResult:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""


@dataclass
class RetentionReport:
    at: datetime
    dry_run: bool
    classes: list[ClassResult]

    def counts(self) -> dict[str, dict[str, int]]:
        """Counts per class and per kind of row, as the audit event stores them."""
        return {c.key: c.counts for c in self.classes if not c.note}

    def summary(self) -> str:
        verb = "would be deleted" if self.dry_run else "deleted"
        lines = [f"Retention {'dry run' if self.dry_run else 'applied'} as of {self.at:%Y-%m-%d %H:%M} UTC "
                 f"(counts of rows {verb}; nothing personal is listed):"]
        for result in self.classes:
            if result.note:
                lines.append(f"  {result.label}: 0 ({result.note})")
                continue
            detail = ", ".join(f"{n} {label}" for label, n in result.counts.items())
            lines.append(f"  {result.label}: {detail}")
        if self.dry_run:
            lines.append("Nothing was deleted. Run without --dry-run to apply the schedule.")
        return "\n".join(lines)


def run_retention(*, dry_run: bool = False, at: datetime | None = None) -> RetentionReport:
    """Apply (or with `dry_run`, count) the retention schedule as of `at` (default: now).

    Unlike other services this one commits: after each class, and once more for the
    `retention.applied` audit event, so a crash leaves a consistent state (see the module).
    A dry run changes nothing and records nothing.
    """
    from flask import current_app

    config = current_app.config
    at = at or now()
    sweeps = _sweeps(config, at)
    results = []
    for rule in retention_schedule(config):
        result = ClassResult(rule.key, rule.label, note=APPLIED_BY_ERASURE.get(rule.key, ""))
        if rule.key == "former_agents":
            result.counts["accounts pseudonymised"] = _pseudonymise_former_agents(config, at, dry_run)
        for sweep in sweeps.get(rule.key, ()):
            if dry_run:
                result.counts[sweep.label] = db.session.scalar(sweep.count)
            else:
                changed = db.session.execute(sweep.change.execution_options(synchronize_session=False))
                result.counts[sweep.label] = changed.rowcount
        if not dry_run:
            db.session.commit()
        results.append(result)
    report = RetentionReport(at=at, dry_run=dry_run, classes=results)
    if dry_run:
        db.session.rollback()
    else:
        record("retention.applied", as_of=at.isoformat(), counts=report.counts())
        db.session.commit()
    db.session.expire_all()  # rows loaded before may have been deleted under the session
    return report


def former_agents_due(config: Mapping[str, Any], at: datetime) -> Select:
    """Deactivated agents not erased yet, deactivated before the longest certification validity plus
    RETENTION_FORMER_AGENT_YEARS: a SELECT of their ids."""
    months = max((spec.get("validity_months", 0) for spec in db.session.scalars(select(ProgrammeVersion.spec))),
                 default=0)
    cutoff = add_months(at.date(), -(months + 12 * config["RETENTION_FORMER_AGENT_YEARS"]))
    return (select(User.id).where(User.role == Role.AGENT, User.active.is_(False), User.erased_at.is_(None),
                                  User.deactivated_at < datetime.combine(cutoff, time.min, tzinfo=timezone.utc))
            .order_by(User.id))


def _pseudonymise_former_agents(config: Mapping[str, Any], at: datetime, dry_run: bool) -> int:
    due = db.session.scalars(former_agents_due(config, at)).all()
    if dry_run:
        return len(due)
    for user_id in due:  # one transaction each: a crash keeps every erasure whole
        erase(db.session.get(User, user_id), requested_by=None, reference="retention")
        db.session.commit()
    return len(due)


def _sweeps(config: Mapping[str, Any], at: datetime) -> dict[str, list[Sweep]]:
    def before(setting: str) -> datetime:
        return at - timedelta(days=config[setting])

    return {
        "sessions": _session_sweeps(before("RETENTION_SESSIONS_DAYS")),
        "failed_sign_ins": _failed_sign_in_sweeps(before("RETENTION_FAILED_SIGN_INS_DAYS")),
        "export_files": _export_file_sweeps(before("RETENTION_EXPORT_FILES_DAYS"), at),
        "sent_emails": [_sweep("sent e-mails", Message, Message.sent_at < before("RETENTION_SENT_EMAILS_DAYS"))],
        "quiz_answers": _answer_sweeps(config["RETENTION_ANSWER_CYCLES"]),
    }


def _sweep(label: str, model: Any, where: ColumnElement[bool]) -> Sweep:
    return Sweep(label, select(func.count()).select_from(model).where(where), delete(model).where(where))


def _session_sweeps(cutoff: datetime) -> list[Sweep]:
    # A session ended at the first of: signed out (revoked), its absolute expiry, its idle expiry.
    ended = or_(LoginSession.revoked_at < cutoff, LoginSession.expires_at < cutoff,
                LoginSession.idle_expires_at < cutoff)
    # Nothing else deletes used or expired set-password links; they name the person and who issued them.
    spent = or_(SetPasswordToken.used_at < cutoff, SetPasswordToken.expires_at < cutoff)
    # Passkey challenges (lms/mfa) need no sweep here: each new challenge deletes the expired ones.
    return [_sweep("login sessions", LoginSession, ended),
            _sweep("set-password links", SetPasswordToken, spent)]


def _failed_sign_in_sweeps(cutoff: datetime) -> list[Sweep]:
    # Only the personal row goes: the event, its leaf and the checkpoints hold a commitment to
    # it, never the fields, so every proof still verifies (lms/audit/verify.py).
    old_events = select(AuditEvent.seq).where(AuditEvent.action.in_(FAILED_SIGN_IN_ACTIONS),
                                              AuditEvent.occurred_at < cutoff)
    return [_sweep("audit events' personal fields", AuditPersonal, AuditPersonal.event_seq.in_(old_events)),
            # A tally is its own copy of the address until it is recorded as a security.probe event.
            _sweep("probe tallies", ProbeTally, ProbeTally.recorded_at.is_not(None) & (ProbeTally.minute < cutoff))]


def _export_file_sweeps(cutoff: datetime, at: datetime) -> list[Sweep]:
    # The jobs are marked first, then the files of marked jobs go: a crash between the two
    # statements is impossible (one transaction per class), and the marker is what the
    # exports page reads.
    due = (Job.finished_at < cutoff) & Job.files_expired_at.is_(None) & exists().where(JobFile.job_id == Job.id)
    expired_jobs = select(Job.id).where(Job.files_expired_at.is_not(None))
    return [Sweep("exports marked expired", select(func.count()).select_from(Job).where(due),
                  update(Job).where(due).values(files_expired_at=at)),
            Sweep("export files",
                  select(func.count()).select_from(JobFile).join(Job, Job.id == JobFile.job_id)
                  .where(or_(Job.files_expired_at.is_not(None), Job.finished_at < cutoff)),
                  delete(JobFile).where(JobFile.job_id.in_(expired_jobs)))]


def _answer_sweeps(cycles: int) -> list[Sweep]:
    return [_sweep("quiz answers", Answer, Answer.attempt_id.in_(answer_expired_attempts(cycles)))]


def answer_expired_attempts(cycles: int) -> Select:
    """The finished attempts whose answers are past retention, as a SELECT of their ids.

    The rule, conservative where programmes share a quiz: an attempt's answers go when, for
    every programme of the person (enrolled in it, or holding an award of it) that requires
    the attempt's quiz, the attempt finished no later than the award `cycles + 1` places from
    the newest, counting awards by date of issue (a re-issue shares its original's date, a
    revoked award does not count). Its scores, result and draw stay on the attempt row; the
    awards' evidence names attempts by id and score, never by answer. Attempts of a quiz that
    no programme of the person requires are kept, as are attempts still in progress.
    """
    pairs = _programme_quizzes()
    if not pairs:  # no programme requires a quiz: every answer is kept
        return select(Attempt.id).where(false())
    required = union_all(*(select(literal(p, Integer).label("programme_id"), literal(q, Integer).label("quiz_id"))
                           for p, q in sorted(pairs))).subquery("required")
    theirs = union(select(Enrolment.user_id, Enrolment.programme_id),
                   select(Award.user_id, Award.programme_id)).subquery("theirs")
    counted = or_(Award.revoked_at.is_(None), Award.revoke_reason == REISSUED)
    ranked = select(Award.user_id, Award.programme_id, Award.issued_at,
                    func.dense_rank().over(partition_by=(Award.user_id, Award.programme_id),
                                           order_by=Award.issued_at.desc()).label("place")
                    ).where(counted).subquery("ranked")
    cutoff = (select(ranked.c.user_id, ranked.c.programme_id, ranked.c.issued_at)
              .where(ranked.c.place == cycles + 1).subquery("cutoff"))

    def programmes_of_attempt() -> Select:
        return (select(required.c.programme_id).select_from(required)
                .join(theirs, theirs.c.programme_id == required.c.programme_id)
                .where(required.c.quiz_id == Attempt.quiz_id, theirs.c.user_id == Attempt.user_id)
                .correlate(Attempt))

    past_cutoff = (select(cutoff.c.user_id).where(cutoff.c.user_id == Attempt.user_id,
                                                  cutoff.c.programme_id == required.c.programme_id,
                                                  Attempt.finished_at <= cutoff.c.issued_at)
                   .correlate(Attempt, required))
    still_kept = programmes_of_attempt().where(~past_cutoff.exists())
    return select(Attempt.id).where(Attempt.status != AttemptStatus.IN_PROGRESS, Attempt.finished_at.is_not(None),
                                    programmes_of_attempt().exists(), ~still_kept.exists())


def _programme_quizzes() -> set[tuple[int, int]]:
    """(programme id, quiz id) for every quiz any version of a programme requires: content, not rows."""
    quiz_ids = {slug: quiz_id for slug, quiz_id in db.session.execute(select(Quiz.slug, Quiz.id))}
    pairs = set()
    for programme_id, spec in db.session.execute(select(ProgrammeVersion.programme_id, ProgrammeVersion.spec)):
        for requirement in spec.get("requirements", []):
            if requirement.get("quiz") in quiz_ids:
                pairs.add((programme_id, quiz_ids[requirement["quiz"]]))
    return pairs


def _scheduled_run() -> str:
    return run_retention().summary()


schedule.register(schedule.Periodic("lms.retention.run", _scheduled_run, schedule.daily_at))
