"""Clearance for live calls: an agent is cleared when every mandatory programme (or the one asked
about) is certified or expiring at the moment asked about.

The status of each enrolment comes from lms.certification.status.status_expression, the rule
the dashboard and the agent's home use, so the API can never disagree with them. One agent or a
thousand cost the same single query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Callable, NamedTuple

from sqlalchemy import (
    Connection, DateTime, Integer, Select, String, and_, bindparam, func, or_, select, type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from lms.accounts.models import Role, User
from lms.certification.models import Enrolment, Programme, ProgrammeVersion
from lms.certification.status import Status, status_expression
from lms.driver_statements import DriverStatement

CLEARED = {Status.CERTIFIED.value, Status.EXPIRING.value}
_CERTIFIED = Status.CERTIFIED.value
_DATED = {*CLEARED, Status.EXPIRED.value}  # statuses whose certificate's expiry is told
EMPLOYEE = "employee:"
MAX_BATCH = 1000
MANY = 50  # ids from which one array parameter beats one parameter each (see _query)

_MESSAGES = {
    Status.NOT_STARTED.value: "Not started; due {due}.",
    Status.IN_PROGRESS.value: "In progress, not yet certified; due {due}.",
    Status.OVERDUE.value: "Overdue: was due {due}.",
    Status.EXPIRED.value: "The certificate expired on {valid_until}.",
    Status.REVOKED.value: "The certificate was revoked.",
    Status.EXPIRING.value: "Cleared, but the certificate expires on {valid_until}: recertification is open.",
}


@dataclass
class Clearance:
    ref: str
    agent_id: int
    employee_id: str | None
    organisation_id: int
    at: datetime
    programmes: list[dict] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)

    @property
    def cleared(self) -> bool:
        # A set, not all() over a generator: this runs for every agent of a batch.
        return bool(self.programmes) and {p["status"] for p in self.programmes} <= CLEARED

    def as_dict(self) -> dict:
        cleared = self.cleared
        # When the clearance ends if nothing changes: the earliest expiry of its certificates.
        valid_until = min([p["valid_until"] for p in self.programmes]) if cleared else None
        return {"id": self.ref, "agent_id": self.agent_id, "employee_id": self.employee_id,
                "organisation_id": self.organisation_id, "at": self.at, "cleared": cleared,
                "valid_until": valid_until, "programmes": self.programmes, "reasons": self.reasons,
                "certificate_codes": [p["certificate_code"] for p in self.programmes
                                      if p["certificate_code"] and p["status"] in CLEARED]}


def parse_ref(ref: str) -> tuple[str, int | str] | None:
    """`123` (the user id) or `employee:E-123` (the organisation's employee id); None if neither."""
    if ref.startswith(EMPLOYEE) and 0 < len(ref) - len(EMPLOYEE) <= 50:
        return "employee", ref[len(EMPLOYEE):]
    if ref.isascii() and ref.isdigit() and len(ref) < 12:
        return "id", int(ref)
    return None


_PROGRAMME = select(Programme.id, Programme.slug).where(Programme.slug == bindparam("slug"))


@cache
def _query(dialect: str, by_programme: bool, scoped: bool, many: bool, by_id: bool,
           by_employee_id: bool, one: bool = False) -> Select:
    """The clearance query, built once per shape with its values as parameters: building the status
    CASE and hashing the statement's cache key cost more than running it (bench/clearance.py).

    Its dates come back naive (in UTC), not made aware one by one: 7,500 of them in a batch of 1,000
    agents. The API writes them with their +00:00 (lms/api/views.py, _json).

    For many ids on PostgreSQL, each list goes as one array parameter, matched through a hashed
    `IN (SELECT unnest(...))`: a thousand separate parameters cost the driver more to convert and
    send than the server takes to run the query. For a few ids, separate parameters keep the index
    lookups that the server's generic plan for an array would trade for a scan of every enrolment.
    Only the kinds of reference asked for are matched, so the server never plans around an empty list.
    `one`: a single reference, matched by equality (parameter `id` or `employee_id`), as the driver
    runs it for one agent (_one_agent)."""
    if one:
        among_ids, among_employee_ids = User.id == bindparam("id"), User.employee_id == bindparam("employee_id")
    elif dialect == "postgresql" and many:
        among_ids = User.id.in_(select(func.unnest(bindparam("ids", type_=postgresql.ARRAY(Integer))))
                                .scalar_subquery())
        among_employee_ids = User.employee_id.in_(
            select(func.unnest(bindparam("employee_ids", type_=postgresql.ARRAY(String)))).scalar_subquery())
    else:
        among_ids = User.id.in_(bindparam("ids", expanding=True))
        among_employee_ids = User.employee_id.in_(bindparam("employee_ids", expanding=True))
    status = status_expression(bindparam("at", type_=Enrolment.due_at.type)).label("status")
    enrolled = and_(Enrolment.user_id == User.id,
                    Enrolment.programme_id == bindparam("programme_id") if by_programme else Enrolment.mandatory)
    query = (select(User.id, User.employee_id, User.organisation_id, Programme.slug, ProgrammeVersion.title,
                    status, *(type_coerce(column, DateTime()).label(column.key) for column in
                              (Enrolment.due_at, Enrolment.recert_due_at, Enrolment.award_valid_until)),
                    Enrolment.award_code)
             .select_from(User).outerjoin(Enrolment, enrolled)
             .outerjoin(Programme, Programme.id == Enrolment.programme_id)
             .outerjoin(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
             .where(User.role == Role.AGENT,
                    or_(among_ids, among_employee_ids) if by_id and by_employee_id else
                    among_ids if by_id else among_employee_ids)
             .order_by(User.id, Programme.slug))
    if scoped:
        query = query.where(User.organisation_id == bindparam("organisation_id"))
    return query


class _OneAgentQuery(NamedTuple):
    """The clearance query for one reference, on the driver's cursor (lms/driver_statements.py):
    SQLAlchemy's execution of the cached statement, its expanding IN rewritten on every call, cost
    ten times what SQLite takes to run it (bench/clearance.py). Parameters and dates go through the
    same type processors SQLAlchemy would apply."""

    statement: DriverStatement
    time_param: Callable[[datetime], Any] | None
    date_result: Callable[[Any], datetime | None] | None

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple]:
        ids, employee_ids = params.pop("ids"), params.pop("employee_ids")
        if ids:
            params["id"] = ids[0]
        else:
            params["employee_id"] = employee_ids[0]
        if self.time_param is not None:
            params["at"] = self.time_param(params["at"])
        found = self.statement.rows(connection, params)
        if self.date_result is None:
            return found
        to_date = self.date_result
        return [(*row[:_DATES], *(to_date(value) for value in row[_DATES:_DATES + 3]), *row[_DATES + 3:])
                for row in found]


_DATES = 6  # where the three dates (due, recertification due, award valid until) start in a row


@cache
def _one_agent(dialect: Dialect, by_programme: bool, scoped: bool, by_id: bool) -> _OneAgentQuery:
    at_type = Enrolment.due_at.type.dialect_impl(dialect)
    return _OneAgentQuery(
        DriverStatement(_query(dialect.name, by_programme, scoped, False, by_id, not by_id, one=True)),
        at_type.bind_processor(dialect), DateTime().dialect_impl(dialect).result_processor(dialect, None))


class ProgrammeRef(NamedTuple):
    """The programme a clearance is asked about."""

    id: int
    slug: str


def find_programme(connection: Connection, slug: str) -> ProgrammeRef | None:
    row = connection.execute(_PROGRAMME, {"slug": slug}).first()
    return ProgrammeRef(*row) if row else None


def clearances(connection: Connection, refs: list[str], at: datetime, organisation_id: int | None,
               programme: ProgrammeRef | None = None) -> dict[str, Clearance | None]:
    """Clearance per reference (None: no such agent within the key's organisation, or ambiguous).

    Runs on `connection`: the API's own autocommit connection, or the session's."""
    parsed = {ref: parse_ref(ref) for ref in refs}
    ids = {v for kind, v in filter(None, parsed.values()) if kind == "id"}
    employee_ids = {v for kind, v in filter(None, parsed.values()) if kind == "employee"}
    if not ids and not employee_ids:
        return {ref: None for ref in refs}
    params = {"at": at, "ids": sorted(ids), "employee_ids": sorted(employee_ids)}
    if programme is not None:
        params["programme_id"] = programme.id
    if organisation_id is not None:
        params["organisation_id"] = organisation_id
    if len(ids) + len(employee_ids) == 1:
        rows = _one_agent(connection.dialect, programme is not None, organisation_id is not None,
                          bool(ids)).rows(connection, params)
    else:
        shape = (connection.dialect.name, programme is not None, organisation_id is not None,
                 len(ids) + len(employee_ids) > MANY, bool(ids), bool(employee_ids))
        rows = connection.execute(_query(*shape), params).tuples()
    by_id: dict[int, Clearance] = {}
    by_employee: dict[str, list[Clearance]] = {}
    for agent_id, employee_id, organisation, *standing in rows:
        found = by_id.get(agent_id)
        if found is None:
            found = by_id[agent_id] = Clearance("", agent_id, employee_id, organisation, at)
            if employee_id is not None:
                by_employee.setdefault(employee_id, []).append(found)
        if standing[0] is not None:
            _add_programme(found, *standing)
    for found in by_id.values():
        _no_programme_reason(found, programme)
    result: dict[str, Clearance | None] = {}
    for ref, key in parsed.items():
        if key is None:
            result[ref] = None
            continue
        kind, value = key
        matches = by_employee.get(value, []) if kind == "employee" else [by_id[value]] if value in by_id else []
        # An employee id is unique within an organisation only: a company-wide key that finds it in
        # two organisations must not guess.
        result[ref] = _with_ref(matches[0], ref) if len(matches) == 1 else None
    return result


def _with_ref(found: Clearance, ref: str) -> Clearance:
    return Clearance(ref, found.agent_id, found.employee_id, found.organisation_id, found.at,
                     found.programmes, found.reasons)


def _add_programme(found: Clearance, slug: str, title: str | None, status: str, due_at: datetime,
                   recert_due_at: datetime | None, award_valid_until: datetime | None,
                   award_code: str | None) -> None:
    # Runs for every row of a batch (2,500 for 1,000 agents): plain arguments, no enum lookups.
    due = recert_due_at or due_at
    valid_until = award_valid_until if status in _DATED else None
    found.programmes.append({"programme": slug, "title": title or slug, "status": status, "due_at": due,
                             "valid_until": valid_until, "certificate_code": award_code if valid_until else None})
    if status != _CERTIFIED:
        message = _MESSAGES[status].format(due=due.date().isoformat(),
                                           valid_until=valid_until.date().isoformat() if valid_until else "")
        found.reasons.append({"programme": slug, "status": status, "message": message, "due_at": due,
                              "valid_until": valid_until})


def _no_programme_reason(found: Clearance, programme: ProgrammeRef | None) -> None:
    """An agent with nothing to hold is not cleared: say why rather than answer a bare false."""
    if not found.programmes:
        found.reasons.append({"programme": programme.slug if programme else None, "status": "not_assigned",
                              "message": ("This programme is not assigned to the agent." if programme else
                                          "No mandatory programme is assigned to the agent."),
                              "due_at": None, "valid_until": None})
