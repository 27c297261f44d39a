"""A database with a v1 hash-chained audit log upgrades, and `lms audit migrate-v1` checks the old
chain before sealing its events as the tree's first leaves, in their order."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from lms.audit.models import AuditEvent, AuditLeaf
from lms.audit.sealing import SealError, seal
from lms.audit.services import record
from lms.audit.verify import verify
from lms.clock import UTCDateTime
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from tests.conftest import app_at_revision

V1_HEAD = "c3d4e5f6a712"  # the last revision with the v1 chain
T0 = datetime(2026, 11, 1, 9, 0, 0, 123456, tzinfo=timezone.utc)


@pytest.fixture
def kept_logging() -> Iterator[None]:
    """Alembic's env.py configures the root logger from alembic.ini (its level and handlers):
    put them back for the tests after this one."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def v1_app(tmp_path: Path, kept_logging) -> Iterator[Flask]:
    """An app on a database migrated to the v1 schema only."""
    key, cert = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"
    ensure_dev_key(key, cert)
    with app_at_revision(V1_HEAD, tmp_path, SIGNING_KEY_PATH=key, SIGNING_CERT_PATH=cert, SIGNING_KEY_PASSPHRASE=None,
                         SIGNING_KEY_ID=None) as app:
        yield app


def _v1_hash(prev_hash: str, row: dict) -> str:
    """v1's record(): SHA-256(previous hash + canonical JSON of the event, e-mail and IP included)."""
    body = {"seq": row["seq"], "occurred_at": row["occurred_at"].isoformat(timespec="microseconds"),
            "actor_id": row["actor_id"], "actor": row["actor_label"], "action": row["action"],
            "target_type": row["target_type"], "target_id": row["target_id"], "ip": row["ip"], "data": row["data"]}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _write_v1_chain(count: int) -> None:
    table = sa.table("audit_event", *(sa.column(c) for c in (
        "id", "seq", "actor_id", "actor_label", "action", "target_type", "target_id", "ip", "data", "prev_hash",
        "hash")), sa.column("occurred_at", UTCDateTime), sa.column("data", sa.JSON))
    previous = "0" * 64
    for seq in range(1, count + 1):
        row = {"id": seq, "seq": seq, "occurred_at": T0 + timedelta(seconds=seq), "actor_id": None,
               "actor_label": f"person{seq}@example.org", "action": "auth.login", "target_type": "user",
               "target_id": str(seq), "ip": f"192.0.2.{seq}", "data": {"n": seq, "note": "café"}}
        row["prev_hash"], row["hash"] = previous, _v1_hash(previous, row)
        previous = row["hash"]
        db.session.execute(table.insert().values(**row))
    db.session.commit()


def test_a_v1_log_upgrades_and_becomes_the_first_leaves(v1_app: Flask):
    _write_v1_chain(6)
    upgrade()
    runner = v1_app.test_cli_runner()
    with pytest.raises(SealError, match="migrate-v1"):
        seal()  # never before the old chain was checked

    result = runner.invoke(args=["lms", "audit", "migrate-v1"])
    assert result.exit_code == 0, result.output
    assert "The v1 chain verified (6 events); sealed 6 event(s)" in result.output
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.actor_label for e in events] == [f"person{n}@example.org" for n in range(1, 7)]
    assert events[2].ip == "192.0.2.3" and events[2].data == {"n": 3, "note": "café"}
    leaves = list(db.session.scalars(select(AuditLeaf.event_seq).order_by(AuditLeaf.index)))
    assert leaves == [1, 2, 3, 4, 5, 6]
    assert verify().ok and verify().leaves == 6

    again = runner.invoke(args=["lms", "audit", "migrate-v1"])
    assert again.exit_code == 0 and "already a Merkle tree" in again.output
    new = record("test.after_migration").seq
    db.session.commit()
    assert new == 7 and seal().sealed == 1 and verify().leaves == 7


def test_a_tampered_v1_chain_is_refused_and_nothing_converted(v1_app: Flask):
    _write_v1_chain(5)
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 3"))
    db.session.commit()
    upgrade()
    result = v1_app.test_cli_runner().invoke(args=["lms", "audit", "migrate-v1"])
    assert result.exit_code == 1
    assert "the v1 audit chain is broken at event #3: its content does not match its hash (edited)" in result.output
    assert db.session.scalar(select(sa.func.count()).select_from(AuditLeaf)) == 0


def test_an_empty_database_has_nothing_to_migrate(v1_app: Flask):
    upgrade()
    result = v1_app.test_cli_runner().invoke(args=["lms", "audit", "migrate-v1"])
    assert result.exit_code == 0 and "No v1 audit chain to migrate." in result.output


def test_a_downgrade_brings_back_a_verifying_v1_chain(v1_app: Flask):
    _write_v1_chain(3)
    upgrade()
    assert v1_app.test_cli_runner().invoke(args=["lms", "audit", "migrate-v1"]).exit_code == 0
    record("test.v2_event", actor_label="new@example.org", ip="198.51.100.4", n=4)
    db.session.commit()
    downgrade(revision=V1_HEAD)
    table = sa.table("audit_event", *(sa.column(c) for c in (
        "seq", "actor_id", "actor_label", "action", "target_type", "target_id", "ip", "prev_hash", "hash")),
        sa.column("occurred_at", UTCDateTime), sa.column("data", sa.JSON))
    rows = db.session.execute(sa.select(table).order_by(table.c.seq)).mappings().all()
    assert [r["actor_label"] for r in rows] == ["person1@example.org", "person2@example.org", "person3@example.org",
                                                "new@example.org"]
    previous = "0" * 64
    for row in rows:
        assert row["prev_hash"] == previous and row["hash"] == _v1_hash(previous, row)
        previous = row["hash"]
