"""The status table behind the dashboard and its CSV: filter, sort, count and page in SQL.

Every function here runs a fixed number of queries whatever the number of
agents (tests/certification/test_scale.py counts them).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, func, select

from lms.accounts.models import Organisation, User
from lms.certification.models import Enrolment, Programme, ProgrammeVersion
from lms.certification.status import Status, due_expression, status_expression
from lms.extensions import db
from lms.policy import audit_scope, restrict_users

SORTS = {"name": "name", "organisation": "organisation", "team": "team", "programme": "programme", "status": "status",
         "due": "due", "valid_until": "valid_until"}


@dataclass
class Filters:
    organisation_id: int | None = None
    programme_id: int | None = None
    status: Status | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    q: str = ""
    user_id: int | None = None
    team: str | None = None
    # "team": the counts (table and chart) per organisation and team rather than per organisation.
    group: str = "organisation"
    sort: str = "due"
    descending: bool = False


def _visible(actor: User, query: Select, filters: Filters) -> Select:
    """The joins and filters every status query shares (a SELECT over Enrolment)."""
    query = (query.join(User, User.id == Enrolment.user_id)
             .join(Programme, Programme.id == Enrolment.programme_id)
             .where(User.active.is_(True), Programme.archived_at.is_(None)))
    query = restrict_users(actor, query)
    if filters.organisation_id:
        query = query.where(User.organisation_id == filters.organisation_id)
    if filters.programme_id:
        query = query.where(Enrolment.programme_id == filters.programme_id)
    if filters.user_id:
        query = query.where(User.id == filters.user_id)
    if filters.team:
        query = query.where(User.team == filters.team)
    if filters.q:
        # autoescape: a typed "_" or "%" is a character to find, not a wildcard.
        words = filters.q.strip().lower()
        query = query.where(func.lower(User.name).contains(words, autoescape=True)
                            | func.lower(User.email).contains(words, autoescape=True))
    if filters.due_before:
        query = query.where(Enrolment.next_due_at <= filters.due_before)
    if filters.due_after:
        query = query.where(Enrolment.next_due_at >= filters.due_after)
    return query


def status_rows(actor: User, filters: Filters, at: datetime) -> Select:
    """One row per enrolment the actor may see: agent, organisation, programme, status, due date."""
    inner = _visible(actor, select(
        Enrolment.id.label("enrolment_id"), User.id.label("user_id"), User.name.label("name"),
        User.email.label("email"), User.employee_id.label("employee_id"), User.team.label("team"),
        Organisation.id.label("organisation_id"),
        Organisation.name.label("organisation"), Programme.id.label("programme_id"),
        ProgrammeVersion.title.label("programme"), status_expression(at).label("status"),
        due_expression().label("due"), Enrolment.award_valid_until.label("valid_until"),
        Enrolment.award_code.label("code"), Enrolment.mandatory.label("mandatory"),
    ).select_from(Enrolment), filters)
    inner = (inner.join(Organisation, Organisation.id == User.organisation_id)
             .join(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id))
    # Status is an expression: filter and sort on it through a subquery.
    rows = inner.subquery("rows")
    query = select(rows)
    if filters.status:
        query = query.where(rows.c.status == filters.status.value)
    column = rows.c[SORTS.get(filters.sort, "due")]
    order = column.desc() if filters.descending else column.asc()
    # The enrolment id breaks ties, so the default order (next due date) walks the index.
    return query.order_by(order, rows.c.enrolment_id)


def cached_counts(actor: User, filters: Filters, at: datetime) -> tuple[dict[str, dict[str, int]], datetime]:
    """counts_by_organisation, reused for DASHBOARD_COUNTS_SECONDS per scope and filters.

    Counting every enrolment is the one part of the dashboard that grows with the number of
    agents (about 50 ms at 10,000 on SQLite); a dashboard refreshed by several people every few
    seconds does not need it recomputed each time. Returns the counts and when they were taken.
    """
    ttl = current_app.config.get("DASHBOARD_COUNTS_SECONDS", 0)
    if not ttl:
        return counts_by_organisation(actor, filters, at), at
    cache: dict = current_app.extensions.setdefault("lms.dashboard_counts", {})
    key = (audit_scope(actor), filters.organisation_id, filters.programme_id, filters.q,
           filters.due_before, filters.due_after, filters.team, filters.group)
    hit = cache.get(key)
    if hit is not None and (at - hit[1]).total_seconds() < ttl:
        return hit
    if len(cache) > 256:  # many distinct searches: start again rather than grow
        cache.clear()
    cache[key] = (counts_by_organisation(actor, filters, at), at)
    return cache[key]


def counts_by_organisation(actor: User, filters: Filters, at: datetime) -> dict[str, dict[str, int]]:
    """{organisation: {status: count}} for the filtered view (any status), in one grouped query
    over the enrolment rows alone; organisation names come from a small second query.

    Grouped by team (filters.group), the keys are "organisation · team" ("· no team" for people
    without one), as team leaders compare their teams side by side."""
    by_team = filters.group == "team"
    team = User.team if by_team else None
    columns = [User.organisation_id, *([team] if by_team else []), status_expression(at).label("status"), func.count()]
    grouped = _visible(actor, select(*columns).select_from(Enrolment), filters).group_by(
        User.organisation_id, *([team] if by_team else []), "status")
    counts: dict[tuple[int, str | None], dict[str, int]] = {}
    for row in db.session.execute(grouped):
        organisation_id, *team_value, status, count = row
        counts.setdefault((organisation_id, *team_value), {})[status] = count
    ids = {key[0] for key in counts}
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(ids))).all()) if counts else {}

    def label(key: tuple) -> str:
        return names[key[0]] + (f" · {key[1] or 'no team'}" if by_team else "")

    return {label(key): counts[key] for key in sorted(counts, key=lambda k: (names[k[0]], *(t or "" for t in k[1:])))}


# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CSV_COLUMNS = [("name", "Agent"), ("email", "E-mail"), ("organisation", "Organisation"), ("programme", "Programme"),
               ("status", "Status"), ("due", "Due or expires (UTC)"), ("valid_until", "Valid until (UTC)"),
               ("code", "Certificate code"),
               # Added last so that spreadsheets built on the earlier columns keep working.
               ("employee_id", "Employee id"), ("team", "Team")]


def csv_chunks(query: Select, batch: int = 2000):
    """The rows of a status_rows() query as CSV (UTF-8 with a BOM for Excel), streamed in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([label for _, label in CSV_COLUMNS])
    result = db.session.execute(query.execution_options(yield_per=batch))
    try:
        for row in result:
            values = row._mapping
            writer.writerow([spreadsheet_safe(_cell(key, values[key])) for key, _ in CSV_COLUMNS])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    finally:
        result.close()
    yield buffer.getvalue()


def _cell(key: str, value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if key == "status":
        return Status(value).english
    return value
