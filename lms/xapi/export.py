"""The NDJSON export: every statement of a date range, one JSON object a line, for systems that pull.

It runs as a job (registered with lms/jobs/kinds.py below) and holds what the outbox holds,
whether or not an LRS received it, except the statements of people restricted or erased by the
time it runs.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.jobs import kinds
from lms.jobs.context import JobContext, JobFailed, OutputFile
from lms.xapi.models import OutboxState, XapiStatement

KIND = "xapi_ndjson"


def _bounds(params) -> tuple[date, date, datetime, datetime]:
    try:
        first, last = date.fromisoformat(params["date_from"]), date.fromisoformat(params["date_to"])
    except (KeyError, TypeError, ValueError):
        raise JobFailed("This export needs a start and an end date.") from None
    start = datetime.combine(first, time.min, tzinfo=timezone.utc)
    return first, last, start, datetime.combine(last + timedelta(days=1), time.min, tzinfo=timezone.utc)


def ndjson_export(ctx: JobContext) -> list[OutputFile]:
    """The statements whose timestamp falls on the dates given (UTC, both days included)."""
    first, last, start, end = _bounds(ctx.params)
    query = (select(XapiStatement.statement).join(User, User.id == XapiStatement.user_id)
             .where(XapiStatement.occurred_at >= start, XapiStatement.occurred_at < end,
                    XapiStatement.state != OutboxState.WITHHELD,
                    User.restricted_at.is_(None), User.erased_at.is_(None))
             .order_by(XapiStatement.occurred_at, XapiStatement.id))
    # The file is built in memory anyway (a job's output is a row), so the rows are read at once: a
    # server-side cursor would not survive the commit that each progress report makes.
    statements = db.session.scalars(query).all()
    ctx.report_progress(0, len(statements))
    lines = [json.dumps(statement, ensure_ascii=False, separators=(",", ":")) for statement in statements]
    ctx.report_progress(len(statements), len(statements))
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    return [OutputFile(f"xapi-statements-{first.isoformat()}-to-{last.isoformat()}.ndjson",
                       "application/x-ndjson", data)]


kinds.register(kinds.JobKind(KIND, _l("xAPI statements (NDJSON)"), ndjson_export))
