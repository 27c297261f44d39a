"""Whom an audit event is about: the scope of a partner's auditors and the log's filters, in SQL,
and the people a page of events names.

An event is about a person when they did it (its actor), when it targets their account, or when
its facts name them: `user_id`, or a record of theirs by id, such as `award_id`. Audit sits below
every domain and imports none of them, so the package that owns such a record registers how its
id leads to its person (`register_reference`), as packages register their job kinds, and accounts
registers the people themselves (people.py). An event is
about an organisation when it is about one of its people, or names the organisation itself
(`organisation_id`, or an organisation as its target).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, cast, or_, select
from sqlalchemy.sql.elements import ColumnElement

from lms.audit import people
from lms.audit.models import AuditEvent
from lms.extensions import db


@dataclass(frozen=True)
class Reference:
    """A fact of events (data[key], an id) that leads to a person through another table."""

    key: str
    id_column: ColumnElement
    person_column: ColumnElement


_REFERENCES: dict[str, Reference] = {}


def register_reference(key: str, id_column: ColumnElement, person_column: ColumnElement) -> None:
    """Events whose data[key] is a row's `id_column` are about that row's `person_column` (a user id)."""
    _REFERENCES[key] = Reference(key, id_column, person_column)


def _fact(key: str) -> ColumnElement:
    """data[key] as an integer: NULL for events without it."""
    return AuditEvent.data[key].as_integer()


def about_people(who: ColumnElement) -> ColumnElement:
    """A WHERE clause: events done by, or about, the people that `who` (a condition on User) selects."""
    person = people.model()
    ids = select(person.id).where(who)
    conditions = [
        AuditEvent.actor_id.in_(ids),
        # target_id is text: compare it with the ids as text, never cast it (many are empty).
        (AuditEvent.target_type == "user") & AuditEvent.target_id.in_(select(cast(person.id, String)).where(who)),
        _fact("user_id").in_(ids),
    ]
    conditions += [_fact(ref.key).in_(select(ref.id_column).where(ref.person_column.in_(ids)))
                   for ref in _REFERENCES.values()]
    return or_(*conditions)


def about_organisation(organisation_id: int) -> ColumnElement:
    """A WHERE clause: events by or about the organisation's people, or naming the organisation."""
    return or_(about_people(people.model().organisation_id == organisation_id),
               _fact("organisation_id") == organisation_id,
               (AuditEvent.target_type == "organisation") & (AuditEvent.target_id == str(organisation_id)))


def subjects_of(events: Iterable[AuditEvent]) -> dict[int, int]:
    """{event seq: id of the person it is about} for the events that name one, in one query per
    registered reference the events use (none for most pages)."""
    subjects: dict[int, int] = {}
    wanted: dict[str, dict[int, list[int]]] = {}
    for event in events:
        data = event.data or {}
        if event.target_type == "user" and str(event.target_id).isdigit():
            subjects[event.seq] = int(event.target_id)
        elif isinstance(data.get("user_id"), int):
            subjects[event.seq] = data["user_id"]
        else:
            for key in _REFERENCES:
                if isinstance(data.get(key), int):
                    wanted.setdefault(key, {}).setdefault(data[key], []).append(event.seq)
                    break
    for key, by_id in wanted.items():
        ref = _REFERENCES[key]
        for row_id, person in db.session.execute(select(ref.id_column, ref.person_column)
                                                 .where(ref.id_column.in_(by_id))):
            for seq in by_id[row_id]:
                subjects[seq] = person
    return subjects


def organisation_fact(event: AuditEvent) -> int | None:
    """The organisation an event names, if any (data.organisation_id, or an organisation target)."""
    value = (event.data or {}).get("organisation_id")
    if isinstance(value, int):
        return value
    if event.target_type == "organisation" and str(event.target_id).isdigit():
        return int(event.target_id)
    return None

