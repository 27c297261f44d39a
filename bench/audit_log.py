"""Benchmark of the audit log v2 (issue #13): sealing, verifying, and audited requests at once.

In one run, for SQLite and PostgreSQL, it measures:

1. seal: N synthetic events (default 1,000,000: realistic actions and `data`, each with its
   personal row and a commitment under a fresh 32-byte salt) are bulk-inserted with xid 0,
   below any PostgreSQL snapshot horizon, so the sealer may take them all; then `seal()`
   appends them as leaves and signs one checkpoint. Baseline: the same query over the same
   rows, read the same way, and each row's leaf hash (what `leaf_hash_of` computes), and
   nothing else (no leaves inserted, no tree). Target: 20,000 events/s or more.
2. verify: `verify()` of the sealed tree. Baseline: a plain streaming read of the join it
   reads (leaf + event + personal), without hashing. Target: under 60 s for 1,000,000.
   Both baselines run once before and once after the measure they serve, and their mean
   is the baseline (the machine is shared; bracketing spreads its load over both).
3. 16 clients (PostgreSQL only): the LMS under gunicorn (2 gthread workers of 8 threads,
   so 16 requests are in flight at once, and the periodic sealer every second), 16 clients
   signed in as holders of a stored certificate, each `GET /awards/<id>/certificate.pdf`
   (one `certificate.downloaded` event per request) for 10 s, against the bare endpoint of
   bench/evidence.py serving the same bytes, in alternating slices. A thread samples
   `pg_locks` (locks not granted) and `pg_stat_activity` (`wait_event_type = 'Lock'`)
   every 75 ms on its own connection during the LMS's slices; it is first shown a planted
   advisory-lock wait, to prove it sees one. The events recorded must equal the downloads.

Steps 1 and 2 run in a child process per database (the app reads its settings from the
environment when imported). Run from anywhere: `python bench/audit_log.py [--database
sqlite|postgresql|both] [--events N]` (see bench/README.md). Everything listens on
127.0.0.1 and is torn down at the end, on error too.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, BenchError, Client, Gunicorn, Stats, app_env, flask, format_table, migrate_and_load_content,
    on_each_database, run_command, run_for, sign_in,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

TARGET_SEAL_RATE = 20_000  # events/s
TARGET_VERIFY_SECONDS = 60.0  # for 1,000,000 events; scaled linearly for another N
TARGET_VERIFY_EVENTS = 1_000_000
INSERT_BATCH = 20_000  # synthetic events generated and inserted per statement
READ_BATCH = 10_000  # rows per fetch in the baselines: what the sealer fetches
SAMPLE_INTERVAL = 0.075  # seconds between pg_locks / pg_stat_activity samples
COMMAND_TIMEOUT = 1800.0
HTTP_TIMEOUT = 60.0
SLICES = 4
DEMO_AGENTS = 24  # enough certificate holders for 16 clients; the demo takes seconds
PROBE_LOCK = 0x62656E63  # "benc": the advisory lock of the sampler's self-check


@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    events: int
    clients: int
    duration: float
    warmup: float
    workers: int
    threads: int
    databases: tuple[str, ...]


# ---- 1 and 2: seal and verify, in a child process ---------------------------------------------

# (action, target_type, data) of what the LMS records most; `{n}` takes a running number.
ACTIONS: tuple[tuple[str, str, dict], ...] = (
    ("certificate.downloaded", "certificate", {"award_id": "{n}"}),
    ("attempt.started", "attempt", {"quiz": "gdpr-essentials", "version": "77aa88bb99cc"}),
    ("attempt.submitted", "attempt", {"percent": 85, "passed": True}),
    ("auth.login", "", {}),
    ("award.issued", "award", {"user_id": "{n}", "programme": "gdpr-certification",
                               "valid_until": "2027-06-30"}),
    ("export.csv", "", {"what": "certification status", "filters": {"organisation": "4", "status": "overdue"}}),
    ("assignment.created", "assignment", {"programme": "recording-and-payments", "due": "2026-12-31"}),
    ("mfa.verified", "", {"method": "totp"}),
)


def _fill(data: dict, n: int) -> dict:
    return {key: (n if value == "{n}" else value) for key, value in data.items()}


def synthetic_batch(first_seq: int, count: int, actor_ids: Sequence[int], started: datetime,
                    rng: random.Random) -> tuple[list[dict], list[dict]]:
    """`count` events from `first_seq` on and their personal rows, one every ~40 s from `started`."""
    from lms.audit.leaves import SALT_BYTES, commitment

    events, personal = [], []
    for seq in range(first_seq, first_seq + count):
        action, target_type, data = ACTIONS[seq % len(ACTIONS)]
        actor_id = rng.choice(actor_ids)
        label, ip = f"agent{actor_id:05d}@bench.example", f"10.{seq % 7}.{seq % 251}.{seq % 13 + 1}"
        subject = f"new{seq}@bench.example" if action == "assignment.created" else ""
        salt = os.urandom(SALT_BYTES)
        events.append({"seq": seq, "occurred_at": started + timedelta(seconds=40 * seq, microseconds=seq % 997),
                       "actor_id": actor_id, "action": action, "target_type": target_type,
                       "target_id": str(seq // 3) if target_type else "", "data": _fill(data, seq // 5),
                       "commitment": commitment(salt, label, ip, subject), "xid": 0})
        personal.append({"event_seq": seq, "salt": salt, "actor_label": label, "ip": ip, "subject_label": subject})
    return events, personal


def insert_events(count: int) -> None:
    """Bulk-insert `count` synthetic events after the existing ones, in one transaction.

    xid 0 (as for v1 events) is below every PostgreSQL snapshot horizon: the sealer takes
    them at once. Batches of INSERT_BATCH rows (COPY on PostgreSQL, executemany on SQLite), not
    `record()` per event, so that the set-up stays fast.
    """
    from sqlalchemy import func, insert, select, text

    from lms.accounts.models import User
    from lms.audit.models import AuditEvent, AuditPersonal
    from lms.extensions import db

    session = db.session
    actor_ids = list(session.scalars(select(User.id)))
    first = (session.scalar(select(func.max(AuditEvent.seq))) or 0) + 1
    rng = random.Random(13)
    started = datetime(2025, 6, 1, 8, tzinfo=timezone.utc)
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    for offset in range(0, count, INSERT_BATCH):
        events, personal = synthetic_batch(first + offset, min(INSERT_BATCH, count - offset), actor_ids,
                                           started, rng)
        for table, rows in ((AuditEvent.__table__, events), (AuditPersonal.__table__, personal)):
            if postgresql:
                copy_rows(connection, table, rows)
            else:
                connection.execute(insert(table), rows)
    if postgresql:
        # The rows were given their seq: move the sequence past them for the requests of step 3.
        session.execute(text("SELECT setval('audit_event_seq_seq', (SELECT max(seq) FROM audit_event))"))
    session.commit()
    if postgresql:
        # What autovacuum would do soon after such a load; without statistics the planner guesses.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE audit_event; ANALYZE audit_personal"))


def copy_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """COPY `rows` into `table` (PostgreSQL), in the connection's transaction.

    executemany sends one INSERT per row: for two million rows that is minutes of set-up.
    """
    from sqlalchemy import JSON

    columns = list(rows[0])
    as_json = {name for name in columns if isinstance(table.c[name].type, JSON)}
    names = ", ".join(f'"{name}"' for name in columns)
    with connection.connection.dbapi_connection.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(value) if name in as_json else value for name, value in row.items()])


def hash_events() -> int:
    """The seal baseline: the query of a first `seal()`, read as it reads it, and each row's leaf hash.

    A first seal has no last leaf to start after, so after the seal this reads the same rows
    again. Returns the rows read.
    """
    from sqlalchemy import select, text

    from lms.audit import merkle
    from lms.audit.leaves import leaf_input
    from lms.audit.models import AuditEvent
    from lms.extensions import db

    session = db.session
    query = select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.action, AuditEvent.target_type,
                   AuditEvent.target_id, AuditEvent.actor_id, AuditEvent.data, AuditEvent.commitment)
    if session.get_bind().dialect.name == "postgresql":
        horizon = session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        query = query.where(AuditEvent.xid < horizon)
    rows = session.connection().execute(query.order_by(AuditEvent.xid, AuditEvent.seq)
                                        .execution_options(yield_per=READ_BATCH))
    count = 0
    try:
        for row in rows:
            merkle.leaf_hash(leaf_input(*row))  # leaf_hash_of(row), by position as seal() does
            count += 1
    finally:
        rows.close()
        session.rollback()
    return count


def read_leaf_join() -> int:
    """The verify baseline: the join `verify()` streams (leaf + event + personal), read and dropped; rows read."""
    from lms.audit.verify import leaf_rows
    from lms.extensions import db

    query = leaf_rows()
    rows = db.session.connection().execute(query)  # Core rows, as verify() reads them
    count = 0
    try:
        for _ in rows:
            count += 1
    finally:
        rows.close()
        db.session.rollback()
    return count


def timed_call(function: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def measure_log() -> None:
    """Insert BENCH_EVENTS events, then time the seal and verify baselines around seal() and verify(); print JSON.

    Runs in a child process whose environment points the app at the bench database.
    """
    from lms import create_app
    from lms.audit.sealing import seal
    from lms.audit.verify import verify

    with create_app().app_context():
        insert_seconds, _ = timed_call(lambda: insert_events(int(os.environ["BENCH_EVENTS"])))
        hash_before, hashed = timed_call(hash_events)
        seal_seconds, sealed = timed_call(seal)
        hash_after, _ = timed_call(hash_events)
        read_before, joined = timed_call(read_leaf_join)
        verify_seconds, verified = timed_call(verify)
        read_after, _ = timed_call(read_leaf_join)
    print(json.dumps({
        "insert_seconds": insert_seconds, "hashed": hashed, "hash_seconds": [hash_before, hash_after],
        "sealed": sealed.sealed, "seal_seconds": seal_seconds,
        "joined": joined, "read_seconds": [read_before, read_after], "verify_seconds": verify_seconds,
        "verified_leaves": verified.leaves, "verify_ok": verified.ok, "verify_reason": verified.reason,
    }))


def find_holders() -> None:
    """Print (JSON) active bulk agents holding a current award, one award each. Runs in a child process."""
    from sqlalchemy import select

    from lms import create_app
    from lms.accounts.models import User
    from lms.certification.models import Award, Enrolment
    from lms.extensions import db

    with create_app().app_context():
        rows = db.session.execute(
            select(User.email, Award.id).join(Award, Award.user_id == User.id)
            .join(Enrolment, Enrolment.current_award_id == Award.id)
            .where(User.active.is_(True), Award.revoked_at.is_(None), User.email.not_like("%@northwind.example"))
            .order_by(Award.id))
        holders: dict[str, int] = {}
        for email, award_id in rows:
            holders.setdefault(email, award_id)
        print(json.dumps([{"email": email, "award_id": award_id} for email, award_id in holders.items()]))


def child(function: str, env: dict[str, str]) -> Any:
    """Run one of this module's functions in a child process with the bench's environment; its JSON."""
    output, _ = run_command([sys.executable, "-c", f"from bench.audit_log import {function}; {function}()"], env,
                            timeout=COMMAND_TIMEOUT)
    return json.loads(output.strip().splitlines()[-1])


@dataclass(frozen=True)
class LogFigures:
    """What measure_log printed: seal and verify, and their baselines before and after."""

    events: int  # the synthetic events inserted (the demo's few events are sealed with them)
    insert_seconds: float
    hashed: int
    hash_seconds: Sequence[float]  # before and after seal()
    sealed: int
    seal_seconds: float
    joined: int
    read_seconds: Sequence[float]  # before and after verify()
    verified_leaves: int
    verify_seconds: float
    verify_ok: bool
    verify_reason: str

    @property
    def seal_rate(self) -> float:
        return self.sealed / self.seal_seconds

    @property
    def hash_baseline(self) -> float:
        return sum(self.hash_seconds) / 2

    @property
    def read_baseline(self) -> float:
        return sum(self.read_seconds) / 2

    @property
    def verify_target(self) -> float:
        """The 60 s for 1,000,000 events, scaled to the tree verified."""
        return TARGET_VERIFY_SECONDS * self.verified_leaves / TARGET_VERIFY_EVENTS


# ---- 3. audited requests from 16 clients (PostgreSQL) ----------------------------------------

@dataclass
class LockReport:
    """What the sampler saw during the LMS's slices."""

    self_check: str = ""  # the planted wait, as the sampler reported it
    samples: int = 0
    waiting: int = 0  # samples with at least one lock wait
    worst: list[tuple[int, list[str]]] = field(default_factory=list)  # (waits, what) of the worst samples
    most_active: int = 0  # the most backends of the bench database running a statement at one sample
    most_in_transaction: int = 0  # ... or inside a transaction (active or idle in it)


class LockSampler:
    """A thread querying pg_locks and pg_stat_activity every SAMPLE_INTERVAL on its own connection.

    It samples all along but records only while `recording` is set (the LMS's slices), so the
    baseline's slices do not dilute the figures. Only backends of the bench database count:
    other databases on the server are not ours.
    """

    WAITS = ("SELECT l.pid, l.locktype, l.mode, coalesce(l.relation::regclass::text, ''), left(a.query, 70) "
             "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE NOT l.granted AND a.datname = current_database()")
    LOCK_WAITERS = ("SELECT pid, wait_event, state, left(query, 70) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'")
    BUSY = ("SELECT count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE xact_start IS NOT NULL) "
            "FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()")

    def __init__(self, conninfo: str) -> None:
        import psycopg

        self.connection = psycopg.connect(conninfo, autocommit=True)
        self.report = LockReport()
        self.recording = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lock-sampler", daemon=True)

    def sample(self) -> tuple[list[str], int, int]:
        """The lock waits now (one line each, from both views), and the active and in-transaction backends."""
        waits = [f"pg_locks: pid {pid} waits for {mode} on {locktype}{' ' + relation if relation else ''} ({query!r})"
                 for pid, locktype, mode, relation, query in self.connection.execute(self.WAITS)]
        waits += [f"pg_stat_activity: pid {pid} waits on {event} ({state}, {query!r})"
                  for pid, event, state, query in self.connection.execute(self.LOCK_WAITERS)]
        active, in_transaction = self.connection.execute(self.BUSY).fetchone()
        return waits, active, in_transaction

    def _run(self) -> None:
        try:
            while not self._stop.wait(SAMPLE_INTERVAL):
                if not self.recording.is_set():
                    continue
                waits, active, in_transaction = self.sample()
                report = self.report
                report.samples += 1
                report.most_active = max(report.most_active, active)
                report.most_in_transaction = max(report.most_in_transaction, in_transaction)
                if waits:
                    report.waiting += 1
                    report.worst = sorted([*report.worst, (len(waits), waits)], key=lambda w: -w[0])[:3]
        except BaseException as exc:  # reported by stop(), in the main thread
            self._error = exc

    def check_sees_a_wait(self, conninfo: str) -> None:
        """Plant an advisory-lock wait and make sure a sample shows it: zero waits must mean none happened."""
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as holder, psycopg.connect(conninfo, autocommit=True) as waiter:
            holder.execute("SELECT pg_advisory_lock(%s)", (PROBE_LOCK,))

            def wait_for_the_lock() -> None:
                waiter.execute("SELECT pg_advisory_lock(%s)", (PROBE_LOCK,))
                waiter.execute("SELECT pg_advisory_unlock(%s)", (PROBE_LOCK,))

            blocked = threading.Thread(target=wait_for_the_lock)
            blocked.start()
            try:
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not self.report.self_check:
                    waits, _, _ = self.sample()
                    self.report.self_check = next((w for w in waits if "advisory" in w), "")
                    time.sleep(SAMPLE_INTERVAL)
            finally:
                holder.execute("SELECT pg_advisory_unlock(%s)", (PROBE_LOCK,))
                blocked.join()
        if not self.report.self_check:
            raise BenchError("the lock sampler did not see a planted advisory-lock wait")

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.connection.close()
        if self._error is not None and exc_info[0] is None:
            raise BenchError(f"the lock sampler failed: {self._error}") from self._error


@dataclass
class LoadFigures:
    """Step 3: the downloads, the bare endpoint, what the sampler saw and the events recorded."""

    clients: int
    app: Stats
    baseline: Stats
    locks: LockReport
    downloads: int  # successful downloads after the counts were taken (warm-up included)
    recorded: int  # certificate.downloaded events recorded meanwhile
    checkpoints: int  # checkpoints the periodic sealer signed meanwhile

    @property
    def ok(self) -> bool:
        return not (self.app.errors or self.baseline.errors or self.locks.waiting) and self.recorded == self.downloads


def pdf_getter(client: Client, path: str) -> Callable[[int], None]:
    """One client's request: GET `path`, which must answer 200 with a PDF."""
    def get(_: int) -> None:
        response = client.get(path)
        if response.status != 200 or not response.body.startswith(b"%PDF-"):
            raise BenchError(f"GET {path}: HTTP {response.status} {response.location} {response.body[:100]!r}")
    return get


def audit_counts(conninfo: str) -> tuple[int, int]:
    """certificate.downloaded events and checkpoints in the database now."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT (SELECT count(*) FROM audit_event WHERE action = 'certificate.downloaded'), "
                            "(SELECT count(*) FROM audit_checkpoint)").fetchone()


def bench_requests(label: str, env: dict[str, str], settings: Settings, workdir: Path,
                   step: Callable[[str], None]) -> LoadFigures:
    """Serve the LMS and the bare endpoint; time the audited downloads while sampling lock waits."""
    from devtools.demo import DEMO_PASSWORD

    conninfo = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    holders = child("find_holders", env)
    if not holders:
        raise BenchError("the demo data has no certificate holder")
    # Seal every second, so that sealing overlaps the requests several times.
    served_env = {**env, "AUDIT_SEAL_SECONDS": "1"}
    with ExitStack() as stack:
        app = stack.enter_context(Gunicorn("wsgi:app", served_env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, threads=settings.threads, ready_within=60))
        try:
            step(f"signing {settings.clients} clients in as {min(len(holders), settings.clients)} certificate "
                 "holders; each first download renders and stores a certificate")
            getters, first_pdf = [], b""
            for n in range(settings.clients):
                holder = holders[n % len(holders)]
                client = Client(app.port, HTTP_TIMEOUT)
                sign_in(client, holder["email"], DEMO_PASSWORD)
                path = f"/awards/{holder['award_id']}/certificate.pdf"
                first = client.get(path)
                if first.status != 200 or not first.body.startswith(b"%PDF-"):
                    raise BenchError(f"first download of {path}: HTTP {first.status} {first.text()[:200]!r}")
                first_pdf = first_pdf or first.body
                getters.append(pdf_getter(client, path))
            pdf_file = workdir / f"{label}-certificate.pdf"
            pdf_file.write_bytes(first_pdf)
            baseline = stack.enter_context(Gunicorn("bench.evidence:baseline_app",
                                                    {**env, "BENCH_PDF_FILE": str(pdf_file)},
                                                    workdir / f"{label}-baseline.log", "/",
                                                    workers=settings.workers, threads=settings.threads))
            bare = [pdf_getter(Client(baseline.port, HTTP_TIMEOUT), "/certificate.pdf")] * settings.clients
            recorded_before, checkpoints_before = audit_counts(conninfo)
            with LockSampler(conninfo) as sampler:
                step("lock sampler: checking it sees a planted advisory-lock wait")
                sampler.check_sees_a_wait(conninfo)
                step(f"downloads ({settings.clients} clients) and the bare endpoint, {settings.duration:.0f} s "
                     f"each in {SLICES} alternating slices, sampling lock waits every "
                     f"{1000 * SAMPLE_INTERVAL:.0f} ms during the downloads")
                sampler.recording.set()
                warm = run_for(settings.warmup, getters)
                sampler.recording.clear()
                run_for(settings.warmup, bare)
                app_stats, bare_stats = Stats(), Stats()
                for _ in range(SLICES):
                    sampler.recording.set()
                    run_for(settings.duration / SLICES, getters, app_stats)
                    sampler.recording.clear()
                    run_for(settings.duration / SLICES, bare, bare_stats)
            recorded_after, checkpoints_after = audit_counts(conninfo)
        except (BenchError, OSError) as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
        if warm.errors or app_stats.errors:
            print(f"[{label}] some downloads failed; end of the LMS log:\n{app.log_tail()}", flush=True)
    return LoadFigures(settings.clients, app_stats, bare_stats, sampler.report, warm.ok + app_stats.ok,
                       recorded_after - recorded_before, checkpoints_after - checkpoints_before)


# ---- one database ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DatabaseResult:
    log: LogFigures
    load: LoadFigures | None  # PostgreSQL only


def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> DatabaseResult:
    """Prepare the database, measure seal and verify in a child process, then (PostgreSQL) the requests."""
    started = time.monotonic()

    def step(message: str) -> None:
        print(f"[{label} {time.monotonic() - started:6.1f} s] {message}", flush=True)

    env = app_env(database_url)
    # The key and the checkpoint file in the work directory, never the developer's instance/:
    # app_env turns publishing off, but the periodic sealer of step 3 should publish as in production.
    env.update(SIGNING_KEY_PATH=str(workdir / f"{label}-signing" / "key.pem"),
               SIGNING_CERT_PATH=str(workdir / f"{label}-signing" / "cert.pem"),
               AUDIT_CHECKPOINT_FILE=str(workdir / f"{label}-audit-checkpoints.txt"))
    step(f"migrating, loading content, a signing key, demo data with {DEMO_AGENTS} agents")
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "evidence", "dev-key"), env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "demo", "--agents", str(DEMO_AGENTS)), env, timeout=COMMAND_TIMEOUT)
    step(f"child process: inserting {settings.events:,} events, then the seal baseline, seal(), the baseline "
         "again, the verify baseline, verify(), the baseline again")
    figures = child("measure_log", {**env, "BENCH_EVENTS": str(settings.events)})
    log = LogFigures(events=settings.events, **figures)
    step(f"sealed {log.sealed:,} events in {log.seal_seconds:.1f} s, verified {log.verified_leaves:,} leaves in "
         f"{log.verify_seconds:.1f} s")
    load = bench_requests(label, env, settings, workdir, step) if label == "postgresql" else None
    return DatabaseResult(log, load)


# ---- report -----------------------------------------------------------------------------

def log_table(results: dict[str, DatabaseResult]) -> str:
    """Seal and verify against their baselines, as an aligned text table."""
    lines: list[tuple[str, ...]] = [("database", "measure", "events", "s", "events/s", "baseline s",
                                     "baseline events/s", "time ratio", "target", "")]
    for label, result in results.items():
        log = result.log
        lines.append((label, "seal", f"{log.sealed:,}", f"{log.seal_seconds:.1f}", f"{log.seal_rate:,.0f}",
                      f"{log.hash_baseline:.1f}", f"{log.hashed / log.hash_baseline:,.0f}",
                      f"{log.seal_seconds / log.hash_baseline:.2f}", f">= {TARGET_SEAL_RATE:,} events/s",
                      "meets" if log.seal_rate >= TARGET_SEAL_RATE else "MISSES"))
        lines.append((label, "verify", f"{log.verified_leaves:,}", f"{log.verify_seconds:.1f}",
                      f"{log.verified_leaves / log.verify_seconds:,.0f}", f"{log.read_baseline:.1f}",
                      f"{log.joined / log.read_baseline:,.0f}", f"{log.verify_seconds / log.read_baseline:.2f}",
                      f"< {log.verify_target:.3g} s", "meets" if log.verify_seconds < log.verify_target else "MISSES"))
    return format_table(lines)


def load_table(label: str, load: LoadFigures) -> str:
    """The downloads against the bare endpoint, and what the lock sampler saw."""
    app, bare = load.app, load.baseline
    ratio = f"{app.rps / bare.rps:.2f}" if bare.rps else "n/a"
    lines = [("database", "measure", "app rps", "app p50 ms", "app p95 ms", "bare rps", "bare p50 ms",
              "bare p95 ms", "throughput ratio", "errors"),
             (label, f"certificate download, {load.clients} clients", f"{app.rps:.1f}", f"{app.percentile_ms(50):.1f}",
              f"{app.percentile_ms(95):.1f}", f"{bare.rps:.1f}", f"{bare.percentile_ms(50):.1f}",
              f"{bare.percentile_ms(95):.1f}", ratio, str(app.errors + bare.errors))]
    locks = load.locks
    report = [format_table(lines), "",
              f"lock sampler: {locks.samples} samples during the downloads, {locks.waiting} with a lock wait; "
              f"at most {locks.most_active} backends running a statement and {locks.most_in_transaction} in a "
              "transaction at one sample",
              f"  (self-check before the load, a planted wait it saw: {locks.self_check})",
              f"audit: {load.recorded} certificate.downloaded events recorded for {load.downloads} successful "
              f"downloads ({'equal' if load.recorded == load.downloads else 'MISMATCH'}); "
              f"the periodic sealer signed {load.checkpoints} checkpoints meanwhile"]
    for waits, what in locks.worst:
        report.append(f"  a sample with {waits} lock waits:")
        report.extend(f"    {line}" for line in what)
    if app.errors or bare.errors:
        report.append(f"  first error: {app.first_error or bare.first_error}")
    return "\n".join(report)


# ---- entry point ------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both",
                        help="which database to run on (default both)")
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="synthetic events to seal and verify (default 1,000,000)")
    parser.add_argument("--clients", type=int, default=16,
                        help="concurrent clients downloading certificates, PostgreSQL (default 16)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of timed downloads, per server (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per worker (default 8: 16 requests in flight with 2 workers)")
    args = parser.parse_args(argv)
    if min(args.events, args.clients, args.workers, args.threads) < 1:
        parser.error("--events, --clients, --workers and --threads must be at least 1")
    return Settings(events=args.events, clients=args.clients, duration=args.duration, warmup=args.warmup,
                    workers=args.workers, threads=args.threads,
                    databases=DATABASES if args.database == "both" else (args.database,))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if all is well, 1 if verify failed, a request failed, events went
    unrecorded or a lock wait was seen, 2 if the set-up failed. A missed target is printed, not an error."""
    settings = parse_args(argv)
    started = time.monotonic()
    results = on_each_database(settings.databases, "callsafe-bench-audit-", "callsafe_bench_audit_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if results is None:
        return 2
    print()
    print(log_table(results))
    print("(seal baseline: the sealer's query and each row's leaf hash; verify baseline: a streaming read "
          "of the leaf + event + personal join; each the mean of a run before and one after; "
          "time ratio = measure s / baseline s)")
    for label, result in results.items():
        log = result.log
        print(f"{label}: {log.events:,} events inserted in {log.insert_seconds:.0f} s; verify "
              + ("found the tree intact" if log.verify_ok else f"FAILED: {log.verify_reason}"))
        if result.load is not None:
            print()
            print(load_table(label, result.load))
    print(f"(whole run: {time.monotonic() - started:.0f} s on {os.cpu_count()} cores)")
    failed = any(not r.log.verify_ok or (r.load is not None and not r.load.ok) for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
