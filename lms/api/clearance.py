"""Clearance for live calls: an agent is cleared when every mandatory programme (or the one asked
about) is certified or expiring at the moment asked about.

The status of each enrolment comes from lms.certification.status.status_expression, the rule
the dashboard and the agent's home use, so the API can never disagree with them. One agent or a
thousand cost the same single query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, false, or_, select

from lms.accounts.models import Role, User
from lms.certification.models import Enrolment, Programme, ProgrammeVersion
from lms.certification.status import Status, status_expression
from lms.extensions import db

CLEARED = {Status.CERTIFIED.value, Status.EXPIRING.value}
EMPLOYEE = "employee:"
MAX_BATCH = 1000

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
        return bool(self.programmes) and all(p["status"] in CLEARED for p in self.programmes)

    @property
    def valid_until(self) -> datetime | None:
        """When the clearance ends if nothing changes: the earliest expiry of its certificates."""
        return min((p["valid_until"] for p in self.programmes), default=None) if self.cleared else None

    def as_dict(self) -> dict:
        return {"id": self.ref, "agent_id": self.agent_id, "employee_id": self.employee_id,
                "organisation_id": self.organisation_id, "at": self.at, "cleared": self.cleared,
                "valid_until": self.valid_until, "programmes": self.programmes, "reasons": self.reasons,
                "certificate_codes": [p["certificate_code"] for p in self.programmes
                                      if p["certificate_code"] and p["status"] in CLEARED]}


def parse_ref(ref: str) -> tuple[str, int | str] | None:
    """`123` (the user id) or `employee:E-123` (the organisation's employee id); None if neither."""
    if ref.startswith(EMPLOYEE) and 0 < len(ref) - len(EMPLOYEE) <= 50:
        return "employee", ref[len(EMPLOYEE):]
    if ref.isascii() and ref.isdigit() and len(ref) < 12:
        return "id", int(ref)
    return None


def clearances(refs: list[str], at: datetime, organisation_id: int | None,
               programme: Programme | None = None) -> dict[str, Clearance | None]:
    """Clearance per reference (None: no such agent within the key's organisation, or ambiguous)."""
    parsed = {ref: parse_ref(ref) for ref in refs}
    ids = {v for kind, v in filter(None, parsed.values()) if kind == "id"}
    employee_ids = {v for kind, v in filter(None, parsed.values()) if kind == "employee"}
    if not ids and not employee_ids:
        return {ref: None for ref in refs}
    status = status_expression(at).label("status")
    enrolled = and_(Enrolment.user_id == User.id,
                    Enrolment.programme_id == programme.id if programme is not None else Enrolment.mandatory)
    query = (select(User.id, User.employee_id, User.organisation_id, Programme.slug, ProgrammeVersion.title,
                    status, Enrolment.due_at, Enrolment.recert_due_at, Enrolment.award_valid_until,
                    Enrolment.award_code)
             .select_from(User).outerjoin(Enrolment, enrolled)
             .outerjoin(Programme, Programme.id == Enrolment.programme_id)
             .outerjoin(ProgrammeVersion, ProgrammeVersion.id == Programme.current_version_id)
             .where(User.role == Role.AGENT,
                    or_(User.id.in_(ids) if ids else false(),
                        User.employee_id.in_(employee_ids) if employee_ids else false()))
             .order_by(User.id, Programme.slug))
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    by_id: dict[int, Clearance] = {}
    by_employee: dict[str, list[Clearance]] = {}
    for row in db.session.execute(query):
        found = by_id.get(row.id)
        if found is None:
            found = by_id[row.id] = Clearance("", row.id, row.employee_id, row.organisation_id, at)
            if row.employee_id is not None:
                by_employee.setdefault(row.employee_id, []).append(found)
        if row.slug is not None:
            _add_programme(found, row)
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


def _add_programme(found: Clearance, row) -> None:
    due = row.recert_due_at or row.due_at
    valid_until = row.award_valid_until if row.status in (*CLEARED, Status.EXPIRED.value) else None
    found.programmes.append({"programme": row.slug, "title": row.title or row.slug, "status": row.status,
                             "due_at": due, "valid_until": valid_until,
                             "certificate_code": row.award_code if valid_until else None})
    if row.status != Status.CERTIFIED.value:
        message = _MESSAGES[row.status].format(due=f"{due:%Y-%m-%d}",
                                               valid_until=f"{valid_until:%Y-%m-%d}" if valid_until else "")
        found.reasons.append({"programme": row.slug, "status": row.status, "message": message,
                              "due_at": due, "valid_until": valid_until})


def _no_programme_reason(found: Clearance, programme: Programme | None) -> None:
    """An agent with nothing to hold is not cleared: say why rather than answer a bare false."""
    if not found.programmes:
        found.reasons.append({"programme": programme.slug if programme else None, "status": "not_assigned",
                              "message": ("This programme is not assigned to the agent." if programme else
                                          "No mandatory programme is assigned to the agent."),
                              "due_at": None, "valid_until": None})
