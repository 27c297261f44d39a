"""The audit chain and its verifier catch an edited, a deleted and a swapped row."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from lms.audit.models import AuditEvent
from lms.audit.services import GENESIS, record, verify_chain
from lms.extensions import db


@pytest.fixture
def chain(app: Flask):
    for i in range(5):
        record("test.event", target_type="thing", target_id=i, n=i)
    db.session.commit()


def _verify_cli(runner):
    return runner.invoke(args=["lms", "audit", "verify"])


def test_intact_chain_verifies(app, chain, runner):
    assert verify_chain().ok and verify_chain().checked == 5
    result = _verify_cli(runner)
    assert result.exit_code == 0 and "5 events checked" in result.output


def test_each_event_links_to_the_previous_hash(app, chain):
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))


def test_edited_row_is_caught(app, chain, runner):
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 3"))
    db.session.commit()
    result = _verify_cli(runner)
    assert result.exit_code == 1 and "event #3" in result.output and "edited" in result.output


def test_deleted_row_is_caught(app, chain, runner):
    db.session.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    db.session.commit()
    result = _verify_cli(runner)
    assert result.exit_code == 1 and "event #3" in result.output


def test_swapped_rows_are_caught(app, chain, runner):
    # Swap the contents of events 2 and 4 (keeping their sequence numbers).
    rows = {r.seq: r for r in db.session.execute(text("SELECT seq, target_id, data FROM audit_event"))}
    for a, b in ((2, 4), (4, 2)):
        db.session.execute(text("UPDATE audit_event SET target_id = :t, data = :d WHERE seq = :s"),
                           {"t": rows[b].target_id, "d": rows[b].data if isinstance(rows[b].data, str)
                            else __import__("json").dumps(rows[b].data), "s": a})
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_seq == 2


def test_orm_refuses_to_update_or_delete_events(app, chain):
    event = db.session.scalars(db.select(AuditEvent).limit(1)).one()
    event.action = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(db.select(AuditEvent).limit(1)).one())
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_audit_page_shows_events_to_admins(app, chain, client, login_as):
    from lms.accounts.models import Role
    from tests import factories

    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    html = client.get("/audit/?action=test.").get_data(as_text=True)
    assert html.count("test.event") == 5 and "Chain head: event #6" in html


def test_removing_the_newest_events_is_caught_against_a_recorded_head(app, chain, runner):
    """On its own a shortened chain is still valid; a head recorded outside the database
    (`lms audit head`, or the head printed in a signed transcript or pack) catches it."""
    recorded = runner.invoke(args=["lms", "audit", "head"]).output.strip()
    assert recorded.startswith("5:") and len(recorded) == 2 + 64
    assert runner.invoke(args=["lms", "audit", "verify", "--head", recorded]).exit_code == 0

    db.session.execute(text("DELETE FROM audit_event WHERE seq >= 4"))
    db.session.commit()
    assert _verify_cli(runner).exit_code == 0  # the chain alone cannot tell
    result = runner.invoke(args=["lms", "audit", "verify", "--head", recorded[:14]])
    assert result.exit_code == 1
    assert "the log ends at event #3, but event #5 was recorded outside the database" in result.output


def test_a_rewritten_chain_is_caught_against_a_recorded_head(app, chain, runner):
    """Editing an event and recomputing every hash after it makes a valid chain, but not the recorded one."""
    from lms.audit.services import chain_hash

    recorded = runner.invoke(args=["lms", "audit", "head"]).output.strip()
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 2"))
    db.session.commit()
    db.session.expire_all()
    previous = GENESIS
    for event in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq)).all():
        digest = chain_hash(previous, event)
        db.session.execute(text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s"),
                           {"p": previous, "h": digest, "s": event.seq})
        previous = digest
    db.session.commit()
    db.session.expire_all()
    assert _verify_cli(runner).exit_code == 0
    result = runner.invoke(args=["lms", "audit", "verify", "--head", recorded])
    assert result.exit_code == 1 and "event #5" in result.output and "rewritten" in result.output


def test_a_malformed_head_is_refused(app, chain, runner):
    result = runner.invoke(args=["lms", "audit", "verify", "--head", "five:abc"])
    assert result.exit_code == 2 and "SEQ:HASH" in result.output
