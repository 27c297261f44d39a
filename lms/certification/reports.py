"""The status table behind the dashboard and its CSV: filter, sort, count and page in SQL.

Every function here runs a fixed number of queries whatever the number of
agents (tests/certification/test_scale.py counts them).

Two counts, never mixed: a list row is an *enrolment* (an agent in one programme), while
every figure labelled "agents" counts each agent once (`agent_counts`, `headline`), under
the status of theirs that needs action first (ACTION_ORDER).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Select, Subquery, bindparam, case, func, select, true

from lms.accounts.models import Organisation, Role, User
from lms.certification.models import Enrolment, Programme, ProgrammeVersion
from lms.certification.status import Status, due_expression, status_expression
from lms.extensions import db
from lms.policy import audit_scope, restrict_users
from lms.spreadsheets import spreadsheet_safe

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
    # Any of these statuses (the home page's lists; the dashboard's form sets `status`).
    statuses: tuple[Status, ...] = ()
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
    if filters.statuses:
        query = query.where(rows.c.status.in_([s.value for s in filters.statuses]))
    column = rows.c[SORTS.get(filters.sort, "due")]
    order = column.desc() if filters.descending else column.asc()
    # The enrolment id breaks ties, so the default order (next due date) walks the index.
    return query.order_by(order, rows.c.enrolment_id)


@cache
def own_status_rows() -> Select:
    """The agent's home page's status_rows: an agent's own enrolments, as
    `status_rows(agent, Filters(user_id=agent.id), at)` gives them, from a statement built once
    per process and run with `{"agent_id": agent.id, "at": at}`.

    Building the status query's expression took a seventh of the agent's home page. Restricting
    to the agent is restrict_users' own rule for agents (`User.id == agent.id`), given the
    parameter in place of the id.
    """
    agent = SimpleNamespace(role=Role.AGENT, id=bindparam("agent_id"))
    return status_rows(agent, Filters(), bindparam("at", type_=Enrolment.due_at.type))


# An agent with several programmes counts once, under the first of their statuses in this order:
# what needs action first. Certified and expiring agents both hold a valid certificate.
ACTION_ORDER = (Status.OVERDUE, Status.EXPIRED, Status.REVOKED, Status.NOT_STARTED, Status.IN_PROGRESS,
                Status.EXPIRING, Status.CERTIFIED)
VALID = (Status.EXPIRING, Status.CERTIFIED)
# The home page's horizons: who is due this week, whose certificate ends within the month.
DUE_SOON = timedelta(days=7)
EXPIRING_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Counts:
    """The dashboard's figures for one set of filters."""

    by_group: dict[str, dict[str, int]]  # organisation (or "organisation · team") -> status -> agents
    agents: int  # agents in the view, each once
    enrolments: int  # list rows matching every filter, the status included (the list's length)


def _statuses(actor: User, filters: Filters, at: datetime) -> Subquery:
    """The visible, filtered enrolments with their agent, organisation, team, status and next date."""
    return _visible(actor, select(
        Enrolment.user_id.label("user_id"), User.organisation_id.label("organisation_id"), User.team.label("team"),
        status_expression(at).label("status"), Enrolment.next_due_at.label("due"),
    ).select_from(Enrolment), filters).subquery("statuses")


def _action_rank(status):
    """An agent's statuses ranked by ACTION_ORDER (0 first): the minimum is the one they count under."""
    return case({s.value: rank for rank, s in enumerate(ACTION_ORDER)}, value=status)


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def agent_counts(actor: User, filters: Filters, at: datetime) -> Counts:
    """Agents per organisation (or team, filters.group) and status, for the filtered view of any
    status, in one grouped query; organisation names come from a small second query.

    Grouped by team, the keys are "organisation · team" ("· no team" for people without one),
    as team leaders compare their teams side by side."""
    rows = _statuses(actor, filters, at)
    by_team = filters.group == "team"
    keys = [rows.c.organisation_id, *([rows.c.team] if by_team else [])]
    matching = rows.c.status == filters.status.value if filters.status else true()
    agents = select(rows.c.user_id, *keys, func.min(_action_rank(rows.c.status)).label("rank"),
                    _count(matching).label("matching")).group_by(rows.c.user_id, *keys).subquery("agents")
    group = [agents.c.organisation_id, *([agents.c.team] if by_team else [])]
    counts: dict[tuple, dict[str, int]] = {}
    total_agents = total_rows = 0
    for *key, rank, number, matched in db.session.execute(
            select(*group, agents.c.rank, func.count(), func.sum(agents.c.matching)).group_by(*group, agents.c.rank)):
        counts.setdefault(tuple(key), {})[ACTION_ORDER[rank].value] = number
        total_agents += number
        total_rows += matched or 0
    ids = {key[0] for key in counts}
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(ids))).all()) if counts else {}

    def label(key: tuple) -> str:
        return names[key[0]] + (f" · {key[1] or 'no team'}" if by_team else "")

    ordered = sorted(counts, key=lambda k: (names[k[0]], *(t or "" for t in k[1:])))
    return Counts({label(key): counts[key] for key in ordered}, total_agents, total_rows)


def cached_counts(actor: User, filters: Filters, at: datetime) -> tuple[Counts, datetime]:
    """agent_counts, reused for DASHBOARD_COUNTS_SECONDS per scope and filters.

    Counting every enrolment is the one part of the dashboard that grows with the number of
    agents (about 50 ms at 10,000 on SQLite); a dashboard refreshed by several people every few
    seconds does not need it recomputed each time. Returns the counts and when they were taken.
    """
    ttl = current_app.config.get("DASHBOARD_COUNTS_SECONDS", 0)
    if not ttl:
        return agent_counts(actor, filters, at), at
    cache: dict = current_app.extensions.setdefault("lms.dashboard_counts", {})
    key = (audit_scope(actor), filters.organisation_id, filters.programme_id, filters.q, filters.status,
           filters.due_before, filters.due_after, filters.team, filters.group)
    hit = cache.get(key)
    if hit is not None and (at - hit[1]).total_seconds() < ttl:
        return hit
    if len(cache) > 256:  # many distinct searches: start again rather than grow
        cache.clear()
    cache[key] = (agent_counts(actor, filters, at), at)
    return cache[key]


# How the counts table (and so its chart) may be ordered: by name, by a status's column, by total.
GROUP_SORTS = ("group", *(s.value for s in Status), "total")


def sorted_groups(by_group: dict[str, dict[str, int]], sort: str, descending: bool) -> dict[str, dict[str, int]]:
    """The counts in the order the table shows them (the chart follows the same order).

    Ties keep the name order, whichever way the column is sorted."""
    if sort not in GROUP_SORTS or sort == "group":
        return dict(reversed(by_group.items())) if descending else by_group

    def value(item: tuple[str, dict[str, int]]) -> int:
        return sum(item[1].values()) if sort == "total" else item[1].get(sort, 0)

    return dict(sorted(by_group.items(), key=value, reverse=descending))


@dataclass(frozen=True)
class Headline:
    """The figures on a staff home page, in the reader's scope, each agent counted once."""

    agents: int  # agents with at least one programme
    certified: int  # agents whose every programme holds a valid certificate
    overdue: int  # agents with an overdue programme
    due_soon: int  # agents with a programme due within DUE_SOON (not started or in progress)
    expiring: int  # agents with a certificate in its renewal window that ends within EXPIRING_SOON
    overdue_rows: int  # enrolments behind each list (for its "and N more")
    due_soon_rows: int
    expiring_rows: int

    @property
    def certified_percent(self) -> int | None:
        """Rounded down, so that 100 % means every agent."""
        return 100 * self.certified // self.agents if self.agents else None


def _due_soon(status, due, at: datetime):
    return status.in_([Status.NOT_STARTED.value, Status.IN_PROGRESS.value]) & (due >= at) & (due <= at + DUE_SOON)


def _expiring_soon(status, due, at: datetime):
    return (status == Status.EXPIRING.value) & (due <= at + EXPIRING_SOON)


def headline(actor: User, at: datetime) -> Headline:
    """The home page's tiles and its lists' sizes, in one query over the actor's agents."""
    rows = _statuses(actor, Filters(), at)
    agents = select(
        rows.c.user_id, func.min(_action_rank(rows.c.status)).label("rank"),
        _count(rows.c.status == Status.OVERDUE.value).label("overdue"),
        _count(_due_soon(rows.c.status, rows.c.due, at)).label("due_soon"),
        _count(_expiring_soon(rows.c.status, rows.c.due, at)).label("expiring"),
    ).group_by(rows.c.user_id).subquery("agents")
    valid = [ACTION_ORDER.index(s) for s in VALID]
    row = db.session.execute(select(
        func.count(), _count(agents.c.rank.in_(valid)), _count(agents.c.overdue > 0), _count(agents.c.due_soon > 0),
        _count(agents.c.expiring > 0), func.sum(agents.c.overdue), func.sum(agents.c.due_soon),
        func.sum(agents.c.expiring))).one()
    return Headline(*(value or 0 for value in row))


def chase_filters(at: datetime) -> dict[str, Filters]:
    """The home page's lists of who needs chasing, as status_rows filters (the dashboard's too)."""
    return {
        "overdue": Filters(status=Status.OVERDUE, sort="due"),
        "due_soon": Filters(statuses=(Status.NOT_STARTED, Status.IN_PROGRESS), due_after=at,
                            due_before=at + DUE_SOON, sort="due"),
        "expiring": Filters(status=Status.EXPIRING, due_before=at + EXPIRING_SOON, sort="due"),
    }


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
