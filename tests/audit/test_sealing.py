"""The sealer with concurrent writers, transactions that commit out of order, and a kill -9 half-way."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, insert, make_url, select, text

from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPersonal
from lms.audit.sealing import seal
from lms.audit.services import record
from lms.audit.verify import verify
from lms.clock import now
from lms.extensions import db

PROJECT = Path(__file__).resolve().parents[2]


def _dialect() -> str:
    return db.engine.dialect.name


def _leaf_seqs() -> list[int]:
    return list(db.session.scalars(select(AuditLeaf.event_seq).order_by(AuditLeaf.index)))


def test_concurrent_writers_while_the_sealer_runs_every_committed_event_sealed_once(app: Flask, signing_key):
    """8 writers, each in its own session, commit or roll back transactions of 1-4 events held open
    for random times, while a sealer seals in a loop."""
    committed: list[int] = []
    rolled_back: list[int] = []
    failures: list[BaseException] = []
    guard = threading.Lock()
    writers_done = threading.Event()
    seals = []

    def writer(n: int) -> None:
        rnd = random.Random(n)
        try:
            with app.app_context():
                for _ in range(15):
                    seqs = []
                    for _ in range(rnd.randint(1, 4)):
                        seqs.append(record("test.concurrent", writer=n).seq)
                        time.sleep(rnd.random() * 0.01)
                    if rnd.random() < 0.15:
                        db.session.rollback()
                        target = rolled_back
                    else:
                        db.session.commit()
                        target = committed
                    with guard:
                        target.extend(seqs)
                db.session.remove()
        except BaseException as exc:  # surfaced by the assertion below
            failures.append(exc)

    def sealer() -> None:
        try:
            with app.app_context():
                while not writers_done.is_set():
                    seals.append(seal().sealed)
                    time.sleep(0.005)
                db.session.remove()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    sealing = threading.Thread(target=sealer)
    sealing.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    writers_done.set()
    sealing.join(120)
    assert not failures, failures
    assert sum(seals) > 0  # the sealer worked while the writers wrote
    seal()

    sealed = _leaf_seqs()
    assert len(sealed) == len(set(sealed)) and sorted(sealed) == sorted(committed)
    if _dialect() == "postgresql":  # a rolled-back seq never comes back
        assert not set(rolled_back) & set(sealed)
    assert len(committed) > 100
    result = verify()
    assert result.ok and result.leaves == len(committed) and result.pending == 0


def test_the_sealer_never_passes_a_transaction_still_open(app: Flask, signing_key):
    if _dialect() != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: a second one cannot insert while the first is open")
    # Transaction A takes its id first but inserts its event after B's, so A's seq is higher.
    outer = app.app_context()
    outer.push()
    try:
        db.session.execute(text("SELECT pg_current_xact_id()"))
        with app.app_context():
            b = record("test.b").seq
            db.session.commit()
            held_back = seal()
            assert held_back.sealed == 0  # B's transaction is newer than A's, still open
        a = record("test.a").seq
        assert a > b
        db.session.commit()
    finally:
        outer.pop()
    assert seal().sealed == 2
    assert _leaf_seqs() == [a, b]  # the tree's order is (transaction id, seq)
    assert verify().ok


def test_a_transaction_open_in_another_database_does_not_hold_sealing_back(app: Flask, signing_key):
    """Transaction ids are the server's, not the database's: another database's long transaction
    (a report, a backup) must not stop this log from sealing."""
    if _dialect() != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no other databases")
    other = create_engine(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(database="postgres"))
    with other.connect() as elsewhere:
        elsewhere.execute(text("SELECT pg_current_xact_id()"))  # an id taken, the transaction left open
        record("test.after_the_other")
        db.session.commit()
        assert seal().sealed == 1
    other.dispose()
    assert verify().ok


def _backlog(count: int) -> None:
    """`count` committed events inserted in bulk, as if many requests had recorded them."""
    at = now()
    batch = 10_000
    for start in range(0, count, batch):
        events, personal = [], []
        for i in range(start, min(start + batch, count)):
            salt = os.urandom(32)
            body = json.dumps({"actor_label": "system", "ip": "", "subject_label": ""}, sort_keys=True,
                              separators=(",", ":"))
            events.append({"seq": i + 1, "occurred_at": at, "actor_id": None, "action": "test.backlog",
                           "target_type": "", "target_id": str(i), "data": {"i": i}, "xid": 0,
                           "commitment": hmac.new(salt, body.encode(), hashlib.sha256).hexdigest()})
            personal.append({"event_seq": i + 1, "salt": salt, "actor_label": "system", "ip": "", "subject_label": ""})
        db.session.execute(insert(AuditEvent), events)
        db.session.execute(insert(AuditPersonal), personal)
    db.session.commit()
    if _dialect() == "postgresql":
        db.session.execute(text("SELECT setval('audit_event_seq_seq', :n)"), {"n": count})
        db.session.commit()


def _wait_until_sealing(app: Flask, process: subprocess.Popen) -> None:
    """Return once the sealer in `process` holds its lock (it is then writing leaves)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if _dialect() == "postgresql":
            held = db.session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                          "AND objid = :k"), {"k": 0x6C6D7373})
            db.session.rollback()
            if held:
                return
        else:
            probe = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), timeout=0)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
            except sqlite3.OperationalError:  # locked: the sealer has the write lock
                return
            finally:
                probe.close()
        time.sleep(0.02)
    pytest.fail("the sealer never started sealing")


def test_a_sealer_killed_mid_seal_leaves_nothing_half_written(app: Flask, signing_key, tmp_path):
    _backlog(100_000)
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "LMS_ENV": "development",
           "SIGNING_KEY_PATH": str(tmp_path / "signing" / "key.pem"),
           "SIGNING_CERT_PATH": str(tmp_path / "signing" / "cert.pem"),
           "AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.txt")}
    output = tmp_path / "seal.log"
    with output.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "lms", "audit", "seal"],
                                   cwd=PROJECT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _wait_until_sealing(app, process)
            time.sleep(0.3)
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(30)
    assert process.returncode == -signal.SIGKILL, output.read_text()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditLeaf)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0

    deadline = time.monotonic() + 30
    result = seal()
    while result.busy and time.monotonic() < deadline:  # the server may take a moment to end the dead session
        time.sleep(0.1)
        result = seal()
    assert result.sealed == 100_000 and result.tree_size == 100_000
    assert verify().ok


def test_the_thread_runner_seals_by_itself_and_eager_only_when_asked(app: Flask, signing_key):
    from lms.jobs.runner import start_audit_sealer

    record("test.auto")
    db.session.commit()
    assert start_audit_sealer(app) is None  # tests run jobs eagerly: no sealer thread
    app.config.update(JOBS_RUNNER="thread", AUDIT_SEAL_SECONDS=0.05)
    stop = start_audit_sealer(app)
    try:
        assert stop is not None and start_audit_sealer(app) is stop  # one sealer per process
        deadline = time.monotonic() + 10
        while not _leaf_seqs() and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threading.enumerate():
            if thread.name == "lms-audit-sealer":
                thread.join(10)
    assert len(_leaf_seqs()) == 1 and verify().ok
