"""Load benchmark of the clearance API at 10,000 agents.

For SQLite and PostgreSQL in turn, it prepares a fresh database the way an operator would
(`flask db upgrade`, `lms content load`, `lms demo --agents N`), creates an API key with
`flask api create-key`, serves the LMS with gunicorn next to the bare Flask app in
bench/baseline_app.py with the same worker settings, and measures, in alternating slices against
GET / of the bare app:
- GET /api/v1/agents/{id}/clearance for agents picked at random (target: at least 0.5 of the bare
  app's throughput);
- POST /api/v1/clearance:batch with 1,000 agent ids (target: p95 at most 200 ms on PostgreSQL).
It also counts the SQL statements of a batch of 10 and of 1,000 ids in one process: they must match.

Run from anywhere: `python bench/clearance.py` (see bench/README.md).
Everything listens on 127.0.0.1 and is torn down at the end, on error too.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, BenchError, Client, Gunicorn, Row, app_env, exit_status, flask, format_table, measure_interleaved,
    migrate_and_load_content, on_each_database, ratio_cell, run_command,
)

TARGET_RATIO = 0.5
TARGET_BATCH_P95_MS = 200.0
BATCH = 1000
HTTP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 900.0
WORKER_TIMEOUT = 120
READY_WITHIN = 60.0
SLICES = 5


@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    agents: int
    clients: int
    duration: float
    warmup: float
    workers: int
    databases: tuple[str, ...]
    floor: bool  # also time bench/stack_floor_app.py's API call


def api_call(port: int, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """One API request on a new connection (as an integration without keep-alive would)."""
    headers = {"Authorization": f"Bearer {token}", "Connection": "close", "User-Agent": "callsafe-bench"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        conn.request(method, path, body=data, headers=headers)
        raw = conn.getresponse()
        return raw.status, raw.read()
    finally:
        conn.close()


def clearance_getter(port: int, token: str, agent_ids: Sequence[int]) -> Callable[[int], None]:
    def get(_: int) -> None:
        status, body = api_call(port, token, "GET", f"/api/v1/agents/{random.choice(agent_ids)}/clearance")
        if status != 200 or b'"cleared"' not in body:
            raise BenchError(f"GET clearance: HTTP {status} {body[:200]!r}")
    return get


def batch_poster(port: int, token: str, agent_ids: Sequence[int]) -> Callable[[int], None]:
    def post(_: int) -> None:
        ids = [str(i) for i in random.sample(list(agent_ids), min(BATCH, len(agent_ids)))]
        status, body = api_call(port, token, "POST", "/api/v1/clearance:batch", {"ids": ids})
        if status != 200 or body.count(b'"found":true') != len(ids):
            raise BenchError(f"POST batch: HTTP {status} {body[:200]!r}")
    return post


def bare_getter(port: int) -> Callable[[int], None]:
    client = Client(port, HTTP_TIMEOUT)

    def get(_: int) -> None:
        response = client.get("/")
        if response.status != 200:
            raise BenchError(f"bare GET /: HTTP {response.status}")
    return get


def agent_ids_and_statements() -> None:
    """In the bench database: print the agents' ids (JSON) and the statements of a batch of 10 and 1,000."""
    from sqlalchemy import event, select

    from lms import create_app
    from lms.accounts.models import Role, User
    from lms.api.clearance import clearances
    from lms.clock import now
    from lms.extensions import db

    with create_app().app_context():
        ids = list(db.session.scalars(select(User.id).where(User.role == Role.AGENT, User.active)))
        counts = []
        for size in (10, BATCH):
            seen: list[str] = []
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            clearances(db.session.connection(), [str(i) for i in ids[:size]], now(), None)
            event.remove(db.engine, "before_cursor_execute", listener)
            counts.append(len(seen))
        print(json.dumps({"ids": ids, "statements": counts}))


def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> list[Row]:
    def step(message: str) -> None:
        print(f"[{label}] {message}", flush=True)

    env = app_env(database_url)
    env["API_RATE_LIMIT"] = "1000000 per minute"  # the bench measures the endpoint, not the limiter
    step(f"migrating, loading content, `lms demo --agents {settings.agents}`")
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "demo", "--agents", str(settings.agents)), env, timeout=COMMAND_TIMEOUT)
    token = run_command(flask("api", "create-key", "--name", "bench"), env, timeout=COMMAND_TIMEOUT)[0].strip()
    found = json.loads(run_command([sys.executable, "-c", "from bench.clearance import agent_ids_and_statements; "
                                                          "agent_ids_and_statements()"], env,
                                   timeout=COMMAND_TIMEOUT)[0].strip().splitlines()[-1])
    agent_ids, statements = found["ids"], found["statements"]
    step(f"{len(agent_ids)} agents; SQL statements for a batch of 10: {statements[0]}, of {BATCH}: {statements[1]}")
    if statements[0] != statements[1]:
        raise BenchError(f"a batch's statements grow with its size: {statements}")
    rows: list[Row] = []
    with ExitStack() as stack:
        app = stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                           ready_within=READY_WITHIN))
        bare = stack.enter_context(Gunicorn("bench.baseline_app:app", env, workdir / f"{label}-baseline.log", "/",
                                            workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                            ready_within=READY_WITHIN))
        baseline = [bare_getter(bare.port) for _ in range(settings.clients)]
        try:
            for measure, make in (("GET clearance (one agent)", clearance_getter),
                                  (f"POST clearance:batch ({BATCH} ids)", batch_poster)):
                step(f"{measure}, {settings.clients} clients, against the bare GET /, {settings.duration:.0f} s each")
                actions = [make(app.port, token, agent_ids) for _ in range(settings.clients)]
                app_stats, bare_stats = measure_interleaved(actions, baseline, duration=settings.duration,
                                                            warmup=settings.warmup, slices=SLICES)
                rows.append(Row(label, measure, app_stats, bare_stats))
            if settings.floor:
                rows.append(measure_floor(stack, env, baseline, settings, label, workdir, step))
        except BenchError as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
    return rows


FLOOR_MEASURE = "stack floor: GET one agent"
FLOOR_PEOPLE = 1000


def measure_floor(stack: ExitStack, env: dict[str, str], baseline: list[Callable[[int], None]], settings: Settings,
                  label: str, workdir: Path, step: Callable[[str], None]) -> Row:
    """Serve bench/stack_floor_app.py as the LMS is served and time its API call, as the LMS's is timed."""
    found = json.loads(run_command([sys.executable, "-m", "bench.stack_floor_app", "--people", str(FLOOR_PEOPLE),
                                    "--user-agent", "callsafe-bench", "--api"], env, timeout=COMMAND_TIMEOUT)[0])
    floor = stack.enter_context(Gunicorn("bench.stack_floor_app:create_app()", env, workdir / f"{label}-floor.log", "/",
                                         workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                         ready_within=READY_WITHIN))
    step(f"{FLOOR_MEASURE} of bench/stack_floor_app.py ({FLOOR_PEOPLE} people), {settings.clients} clients, "
         f"against the bare GET /, {settings.duration:.0f} s each")
    actions = [clearance_getter(floor.port, found["token"], found["ids"]) for _ in range(settings.clients)]
    floor_stats, bare_stats = measure_interleaved(actions, baseline, duration=settings.duration,
                                                  warmup=settings.warmup, slices=SLICES)
    return Row(label, FLOOR_MEASURE, floor_stats, bare_stats)


COLUMNS = ("database", "request", "requests", "rps", "p50 ms", "p95 ms", "bare rps", "bare p95 ms", "rps ratio",
           "target met")


def target_met(row: Row) -> str:
    if row.app.errors:
        return "NO (errors)"
    if row.measure == FLOOR_MEASURE:
        return "(reference)"
    if row.measure.startswith("GET"):
        return "yes" if (row.rps_ratio or 0) >= TARGET_RATIO else f"NO (< {TARGET_RATIO})"
    if row.database != "postgresql":
        return "n/a (PostgreSQL target)"
    return "yes" if row.app.percentile_ms(95) <= TARGET_BATCH_P95_MS else f"NO (> {TARGET_BATCH_P95_MS:.0f} ms)"


def table(rows: Sequence[Row]) -> str:
    lines: list[tuple[str, ...]] = [COLUMNS]
    for row in rows:
        app, bare = row.app, row.baseline
        lines.append((row.database, row.measure, str(app.ok + app.errors), f"{app.rps:.1f}",
                      f"{app.percentile_ms(50):.1f}", f"{app.percentile_ms(95):.1f}", f"{bare.rps:.1f}",
                      f"{bare.percentile_ms(95):.1f}", ratio_cell(row.rps_ratio, ".3f"), target_met(row)))
    return format_table(lines)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10000, help="agents in the demo company (default 10000)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds per measure (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--database", choices=DATABASES, action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--floor", action="store_true",
                        help="also time bench/stack_floor_app.py's API call, the mandated stack's least")
    args = parser.parse_args(argv)
    return Settings(agents=args.agents, clients=args.clients, duration=args.duration, warmup=args.warmup,
                    workers=args.workers, databases=tuple(args.databases or DATABASES), floor=args.floor)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every request succeeded, 1 if some failed, 2 if the set-up failed."""
    settings = parse_args(argv)
    print(f"gunicorn: {settings.workers} sync workers; {settings.clients} client threads; "
          f"{settings.agents} agents; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
    started = time.monotonic()
    results = on_each_database(settings.databases, "callsafe-clearance-", "callsafe_clearance_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if results is None:
        return 2
    rows = [row for database_rows in results.values() for row in database_rows]
    print()
    print(table(rows))
    for row in rows:
        if row.app.errors:
            print(f"{row.database} {row.measure}: {row.app.errors} failed, first: {row.app.first_error}")
    print(f"(whole run: {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f})")
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())
