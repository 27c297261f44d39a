"""Roster import rules: what each row of an upload would do, and doing it (as the apply job).

The plan is computed from the stored file and the people in the database, the same way for the
preview and for the job, so applying does what the preview showed; the job refuses to run when
the counts it finds differ from the ones the admin confirmed (someone changed people meanwhile).
Every write goes through lms.accounts.services, so audit events and `user_saved` / `users_saved`
(enrolment) follow.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, Role, User
from lms.certification.reports import spreadsheet_safe
from lms.clock import now
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.policy import can_manage_user
from lms.roster.models import RosterUpload
from lms.roster.parsing import COLUMNS, N_, CellError, FileProblem, RosterRow, find_duplicates, read_rows

CREATE, UPDATE, UNCHANGED, DEACTIVATE, ERROR = "create", "update", "unchanged", "deactivate", "error"
CREATE_BATCH = 500  # new people per accounts.create_users call
PROGRESS_EVERY = 500  # rows between two moves of the job's progress bar
OUTCOMES = (CREATE, UPDATE, UNCHANGED, DEACTIVATE, ERROR)


@dataclass
class PlannedRow:
    """A row of the file (or a leaver, with line 0) and what applying would do to whom."""

    row: RosterRow | None
    outcome: str
    user_id: int | None = None
    organisation_id: int | None = None
    changes: list[str] = field(default_factory=list)
    leaver: User | None = None

    @property
    def errors(self) -> list[CellError]:
        return self.row.errors if self.row else []


@dataclass
class Plan:
    rows: list[PlannedRow]
    counts: Counter

    @property
    def leavers(self) -> int:
        return self.counts[DEACTIVATE]


def store_upload(actor: User, filename: str, data: bytes, full_roster: bool) -> RosterUpload:
    """Keep the file if it can be read at all (FileProblem otherwise, and nothing is stored)."""
    rows = sum(1 for _ in read_rows(data))
    if rows == 0:
        raise FileProblem(N_("The file has a header line but no people."))
    upload = RosterUpload(uploaded_by_id=actor.id, filename=(filename or "roster.csv")[:200], data=data,
                          sha256=hashlib.sha256(data).hexdigest(), full_roster=full_roster, row_count=rows)
    db.session.add(upload)
    db.session.flush()
    return upload


def upload_for(actor: User, upload_id: int) -> RosterUpload | None:
    """An upload is its uploader's (and any admin's); for anyone else it does not exist."""
    upload = db.session.get(RosterUpload, upload_id)
    if upload is None or (upload.uploaded_by_id != actor.id and actor.role is not Role.ADMIN):
        return None
    return upload


def _role_allowed(actor: User, role: Role) -> bool:
    return actor.role is Role.ADMIN or role is Role.AGENT


def plan(actor: User, upload: RosterUpload) -> Plan:
    """Each row's outcome against the database now; leavers too for a full roster. Writes nothing."""
    rows = list(read_rows(upload.data))
    find_duplicates(rows)
    organisations = {o.name.casefold(): o for o in db.session.scalars(select(Organisation))}
    named = {o.id for r in rows if (o := organisations.get(r.organisation.casefold()))}
    if actor.role is not Role.ADMIN:
        named &= {actor.organisation_id}
    people = list(db.session.scalars(select(User).where(User.organisation_id.in_(named)))) if named else []
    by_employee_id = {(u.organisation_id, u.employee_id): u for u in people if u.employee_id}
    emails = {r.email for r in rows if r.email}
    by_email = {u.email: u for u in people}
    for chunk in _chunks(sorted(emails - by_email.keys()), 1000):  # people elsewhere holding an address
        by_email.update({u.email: u for u in db.session.scalars(select(User).where(User.email.in_(chunk)))})
    planned: list[PlannedRow] = []
    matched: set[int] = set()
    for row in rows:
        planned.append(_plan_row(actor, row, organisations, by_employee_id, by_email, matched))
    if upload.full_roster:
        for person in sorted(people, key=lambda u: (u.name.casefold(), u.id)):
            # Only agents: staff accounts (trainers, auditors, admins) are never ended by a file.
            if (person.active and person.id not in matched and person.role is Role.AGENT
                    and can_manage_user(actor, person)):
                planned.append(PlannedRow(None, DEACTIVATE, person.id, person.organisation_id, leaver=person))
    return Plan(planned, Counter(p.outcome for p in planned))


def _plan_row(actor: User, row: RosterRow, organisations: dict[str, Organisation],
              by_employee_id: dict, by_email: dict[str, User], matched: set[int]) -> PlannedRow:
    org = organisations.get(row.organisation.casefold()) if row.organisation else None
    if row.organisation and org is None:
        row.errors.append(CellError("organisation", N_("there is no organisation called \"%(value)s\""),
                                    {"value": row.organisation}))
    elif org is not None and actor.role is not Role.ADMIN and org.id != actor.organisation_id:
        row.errors.append(CellError("organisation", N_("you can import people into %(organisation)s only"),
                                    {"organisation": actor.organisation.name}))
    if row.role and not _role_allowed(actor, Role(row.role)):
        row.errors.append(CellError("role", N_("partner admins import agents only")))
    if row.errors or org is None:
        return PlannedRow(row, ERROR)
    user = by_employee_id.get((org.id, row.employee_id))
    holder = by_email.get(row.email)
    if user is None and holder is not None:
        if holder.organisation_id != org.id:
            row.errors.append(CellError("email", N_("another account already uses this e-mail address")))
        elif holder.employee_id and holder.employee_id != row.employee_id:
            row.errors.append(CellError("email", N_("this e-mail belongs to employee id %(value)s"),
                                        {"value": holder.employee_id}))
        else:
            user = holder
    elif user is not None and holder is not None and holder is not user:
        row.errors.append(CellError("email", N_("another account already uses this e-mail address")))
    if user is not None and user.id in matched:
        row.errors.append(CellError("", N_("another line of the file matches the same person")))
    if user is not None and not row.errors and not can_manage_user(actor, user):
        row.errors.append(CellError("employee_id", N_("this person is not an agent you manage")))
    if row.errors:
        return PlannedRow(row, ERROR)
    # No role in the file: newcomers are agents, and people already here keep theirs.
    row.role = row.role or (user.role.value if user else Role.AGENT.value)
    if user is None:
        return PlannedRow(row, CREATE, None, org.id)
    matched.add(user.id)
    wanted = {"name": row.name, "email": row.email, "role": Role(row.role), "employee_id": row.employee_id,
              "team": row.team or None}
    changes = [COLUMNS.get(k, k) for k, v in wanted.items() if getattr(user, k) != v]
    if not user.active:
        changes.append(N_("reactivated"))
    return PlannedRow(row, UPDATE if changes else UNCHANGED, user.id, org.id, changes)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def apply(actor: User, upload: RosterUpload, *, valid_rows_only: bool, confirmed_leavers: int,
          progress: Callable[[int, int], None] | None = None) -> Plan:
    """Carry out the plan through the account services; flushes, never commits (the job does, once).

    Refuses (FileProblem) if any row has an error and `valid_rows_only` is not set, or if the
    leavers to deactivate are not exactly the `confirmed_leavers` the admin agreed to.
    """
    result = plan(actor, upload)
    if result.counts[ERROR] and not valid_rows_only:
        raise FileProblem(N_("%(count)s rows have errors, so nothing was changed. Fix them and upload the file "
                             "again, or choose “apply the valid rows”."), count=f"{result.counts[ERROR]:,}")
    if result.leavers != confirmed_leavers:
        raise FileProblem(N_("The file now means deactivating %(now)s people, not the %(confirmed)s that were "
                             "confirmed: people changed since the preview. Preview it again."),
                          now=f"{result.leavers:,}", confirmed=f"{confirmed_leavers:,}")
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([p.user_id for p in result.rows if p.user_id])))} if result.counts[UPDATE] else {}
    total, done = len(result.rows), 0

    def advance(rows: int) -> None:
        nonlocal done
        before, done = done, done + rows
        if progress is not None and (done // PROGRESS_EVERY > before // PROGRESS_EVERY or done == total):
            progress(done, total)

    # Changes first, in file order, so that an address or employee id someone gives up is free for a
    # new starter; then the new starters, a batch at a time (accounts.create_users).
    for item in result.rows:
        if item.outcome == UPDATE:
            user = users[item.user_id]
            accounts.update_user(actor, user, _person(item))
            if not user.active:
                accounts.set_active(actor, user, True)
        elif item.outcome == DEACTIVATE:
            accounts.set_active(actor, item.leaver, False)
        if item.outcome != CREATE:
            advance(1)
    for batch in _chunks([item for item in result.rows if item.outcome == CREATE], CREATE_BATCH):
        accounts.create_users(actor, [_person(item) for item in batch])
        advance(len(batch))
    return result


def _person(item: PlannedRow) -> accounts.UserData:
    row = item.row
    return accounts.UserData(email=row.email, name=row.name, role=Role(row.role), organisation_id=item.organisation_id,
                             employee_id=row.employee_id, team=row.team or None)


def report_progress(job_id: int, done: int, total: int) -> None:
    """Move the job's progress bar while the import's own transaction stays open (all-or-nothing).

    Written from a separate autocommit connection, so the bar moves without committing the import.
    SQLite allows one writer at a time, held by the import: there the figures are written in the
    import's transaction, so the bar jumps to the end when it commits.
    """
    statement = (update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING)
                 .values(progress_done=done, progress_total=total, heartbeat_at=now()))
    if db.engine.dialect.name == "sqlite":
        db.session.execute(statement.execution_options(synchronize_session=False))
        return
    with accounts.autocommit_engine().connect() as connection:
        connection.execute(statement)


REPORT_COLUMNS = ("line", "employee_id", "name", "email", "organisation", "role", "team", "start_date",
                  "result", "details")


def report_csv(result: Plan, applied: bool) -> bytes:
    """Each row's result as CSV (UTF-8 with a BOM, for Excel), every cell made spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    for item in result.rows:
        if item.row is None:
            person = item.leaver
            values = ["", person.employee_id or "", person.name, person.email, person.organisation.name,
                      person.role.value, person.team or "", ""]
        else:
            r = item.row
            values = [r.line, r.employee_id, r.name, r.email, r.organisation, r.role, r.team,
                      r.start_date.isoformat() if r.start_date else ""]
        outcome = item.outcome
        if applied:
            outcome = {CREATE: "created", UPDATE: "updated", DEACTIVATE: "deactivated",
                       ERROR: "skipped (error)"}.get(outcome, outcome)
        details = "; ".join(f"{e.heading}: {e.message}" for e in item.errors) or ", ".join(item.changes)
        writer.writerow([spreadsheet_safe(v) for v in (*values, outcome, details)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
