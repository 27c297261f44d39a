"""record(): the rows it writes, and the event it hands back (lms/audit/services.py).

record() writes on the driver's cursor rather than through the ORM's unit of work; these
check that the rows are what the ORM wrote, and that the caller gets an event as if loaded.
"""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import inspect, select, text

from lms.accounts.models import Role
from lms.audit.leaves import commitment
from lms.audit.models import AuditEvent, AuditPersonal
from lms.audit.services import record
from lms.extensions import db
from tests import factories


def test_the_rows_hold_every_field_as_given(app):
    actor = factories.user(Role.ADMIN, email="admin@example.org")
    target = factories.user(Role.AGENT, email="target@example.org")
    db.session.commit()
    event = record("test.fields", actor=actor, target=target, ip="192.0.2.9", subject_label=target.email,
                   n=3, nested={"a": [1, "b"]}, text="é")
    seq, actor_id, target_id = event.seq, actor.id, target.id
    db.session.commit()
    db.session.expunge_all()
    row = db.session.execute(text("SELECT * FROM audit_event WHERE seq = :seq"), {"seq": seq}).mappings().one()
    assert (row["action"], row["actor_id"], row["target_type"], row["target_id"]) == (
        "test.fields", actor_id, "user", str(target_id))
    assert row["prev_hash"] is None and row["hash"] is None
    stored = db.session.get(AuditEvent, seq)
    assert stored.data == {"n": 3, "nested": {"a": [1, "b"]}, "text": "é"}
    assert stored.occurred_at.tzinfo is timezone.utc
    personal = db.session.get(AuditPersonal, seq)
    assert (personal.actor_label, personal.ip, personal.subject_label) == (
        "admin@example.org", "192.0.2.9", "target@example.org")
    assert stored.commitment == commitment(personal.salt, "admin@example.org", "192.0.2.9", "target@example.org")
    if db.engine.dialect.name == "postgresql":
        assert stored.xid > 0  # the inserting transaction's, for the sealer
    else:
        assert stored.xid == 0


def test_the_event_returned_is_in_the_session_as_if_loaded(app):
    event = record("test.returned", actor_label="ann@example.org", ip="198.51.100.4", k="v")
    state = inspect(event)
    assert state.persistent and not db.session.dirty and not db.session.new
    assert event in db.session and event.personal in db.session
    assert event.seq is not None and event.actor_label == "ann@example.org" and event.ip == "198.51.100.4"
    assert event.data == {"k": "v"} and event.action == "test.returned"
    assert db.session.get(AuditEvent, event.seq) is event  # the identity map has it: no second copy
    db.session.commit()
    assert db.session.get(AuditPersonal, event.seq).actor_label == "ann@example.org"


def test_the_callers_pending_rows_go_in_first(app):
    """A target added but not flushed is flushed before the event, as when the ORM flushed both."""
    organisation = factories.organisation("Pending Org")
    db.session.commit()
    from lms.accounts.models import User

    person = User(email="pending@example.org", name="Pending", role=Role.AGENT, organisation_id=organisation.id)
    db.session.add(person)
    record("test.after_pending", actor_label="system", subject_label=person.email)
    assert person.id is not None  # flushed by record()
    db.session.rollback()  # the caller's transaction: both go
    assert db.session.scalar(select(User).where(User.email == "pending@example.org")) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "test.after_pending")) is None
