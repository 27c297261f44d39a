"""The status table behind the dashboard and its CSV: filter, sort, count and page in SQL.

Every function here runs a fixed number of queries whatever the number of
agents (tests/certification/test_scale.py counts them).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from lms.accounts.models import Organisation, User
from lms.certification.models import Enrolment, Programme, ProgrammeVersion
from lms.certification.status import Status, due_expression, status_expression
from lms.extensions import db
from lms.policy import restrict_users

SORTS = {"name": "name", "organisation": "organisation", "programme": "programme", "status": "status",
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
    sort: str = "due"
    descending: bool = False


def status_rows(actor: User, filters: Filters, at: datetime) -> Select:
    """One row per enrolment the actor may see: agent, organisation, programme, status, due date."""
    status = status_expression(at).label("status")
    due = due_expression().label("due")
    inner = (
        select(Enrolment.id.label("enrolment_id"), User.id.label("user_id"), User.name.label("name"),
               User.email.label("email"), Organisation.id.label("organisation_id"),
               Organisation.name.label("organisation"), Programme.id.label("programme_id"),
               ProgrammeVersion.title.label("programme"), status, due,
               Enrolment.award_valid_until.label("valid_until"), Enrolment.award_code.label("code"),
               Enrolment.mandatory.label("mandatory"))
        .join(User, User.id == Enrolment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .join(Programme, Programme.id == Enrolment.programme_id)
        .join(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
        .where(User.active.is_(True), Programme.archived_at.is_(None))
    )
    inner = restrict_users(actor, inner)
    if filters.organisation_id:
        inner = inner.where(User.organisation_id == filters.organisation_id)
    if filters.programme_id:
        inner = inner.where(Enrolment.programme_id == filters.programme_id)
    if filters.user_id:
        inner = inner.where(User.id == filters.user_id)
    if filters.q:
        like = f"%{filters.q.strip().lower()}%"
        inner = inner.where(func.lower(User.name).like(like) | func.lower(User.email).like(like))
    # Status and due are expressions: filter and sort on them through a subquery.
    rows = inner.subquery("rows")
    query = select(rows)
    if filters.status:
        query = query.where(rows.c.status == filters.status.value)
    if filters.due_before:
        query = query.where(rows.c.due <= filters.due_before)
    if filters.due_after:
        query = query.where(rows.c.due >= filters.due_after)
    column = rows.c[SORTS.get(filters.sort, "due")]
    order = column.desc() if filters.descending else column.asc()
    # The enrolment id breaks ties, so the default order (next due date) walks the index.
    return query.order_by(order, rows.c.enrolment_id)


def counts_by_organisation(actor: User, filters: Filters, at: datetime) -> dict[str, dict[str, int]]:
    """{organisation: {status: count}} for the filtered view, in one grouped query."""
    rows = status_rows(actor, Filters(organisation_id=filters.organisation_id, programme_id=filters.programme_id,
                                      q=filters.q, due_before=filters.due_before, due_after=filters.due_after),
                       at).order_by(None).subquery("filtered")
    result: dict[str, dict[str, int]] = {}
    for org, status, count in db.session.execute(
            select(rows.c.organisation, rows.c.status, func.count()).group_by(rows.c.organisation, rows.c.status)
            .order_by(rows.c.organisation)):
        result.setdefault(org, {})[status] = count
    return result


# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CSV_COLUMNS = [("name", "Agent"), ("email", "E-mail"), ("organisation", "Organisation"), ("programme", "Programme"),
               ("status", "Status"), ("due", "Due or expires (UTC)"), ("valid_until", "Valid until (UTC)"),
               ("code", "Certificate code")]


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
        return Status(value).label
    return value
