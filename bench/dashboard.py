"""Load benchmark of the certification dashboard at 10,000 agents.

For SQLite and PostgreSQL in turn, it prepares a fresh database the way an
operator would (`flask db upgrade`, `lms content load`, `lms demo --agents N`),
serves the LMS with gunicorn next to the bare Flask app in bench/baseline_app.py
with the same worker settings, signs a trainer in from each client thread, and
measures GET /dashboard against GET / of the bare app in alternating slices.
It prints one table with the ratios and whether the dashboard's p95 is under
the target (150 ms); `--explain` adds each dashboard query's time and plan.

Run from anywhere: `python bench/dashboard.py` (see bench/README.md).
Everything listens on 127.0.0.1 and is torn down at the end, on error too.
"""
from __future__ import annotations

import argparse
import os
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
    migrate_and_load_content, on_each_database, ratio_cell, run_command, sign_in,
)

TRAINER = "trainer@northwind.example"
TARGET_P95_MS = 150.0
HTTP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 900.0
WORKER_TIMEOUT = 120  # gunicorn's --timeout: a slow dashboard is a result, not a dead worker
READY_WITHIN = 60.0  # seconds gunicorn may take to answer its first request
SLICES = 5  # the measure alternates app and baseline this many times


@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    agents: int
    clients: int
    duration: float
    warmup: float
    workers: int
    databases: tuple[str, ...]
    paths: tuple[str, ...]
    explain: bool


def page_getter(client: Client, path: str, must_contain: bytes) -> Callable[[int], None]:
    """One client's request: GET `path`, which must answer 200 with `must_contain` in the page."""
    def get(_: int) -> None:
        response = client.get(path)
        if response.status != 200 or must_contain not in response.body:
            raise BenchError(f"GET {path}: HTTP {response.status} {response.location}")
    return get


# ---- database ------------------------------------------------------------------------------

def prepare_database(label: str, env: dict[str, str], agents: int) -> float:
    """Migrate, load the content, generate the demo company; the demo command's wall time."""
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    output, seconds = run_command(flask("lms", "demo", "--agents", str(agents)), env, timeout=COMMAND_TIMEOUT)
    for line in output.splitlines():
        if line.startswith(("Bulk demo data", "Enrolments of active agents")):
            print(f"[{label}] {line}", flush=True)
    return seconds


# ---- query plans ---------------------------------------------------------------------------

def explain_dashboard() -> None:
    """Time each dashboard query (as the trainer, no filters) and print its plan.

    Runs in a subprocess whose environment points the app at the bench database.
    """
    from sqlalchemy import func, select, text

    from lms import create_app
    from lms.accounts.models import User
    from lms.certification import reports
    from lms.clock import now
    from lms.extensions import db

    with create_app().app_context():
        trainer = db.session.scalar(select(User).where(User.email == TRAINER))
        at = now()
        rows = reports.status_rows(trainer, reports.Filters(), at)
        grouped = rows.order_by(None).subquery("filtered")
        queries = {
            "page count (pagination.paginate_rows)": select(func.count()).select_from(rows.order_by(None).subquery()),
            "page of 25 (reports.status_rows)": rows.limit(25).offset(0),
            "counts (reports.counts_by_organisation)": select(grouped.c.organisation, grouped.c.status, func.count())
            .group_by(grouped.c.organisation, grouped.c.status).order_by(grouped.c.organisation),
        }
        dialect = db.engine.dialect
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
        for name, query in queries.items():
            sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            times = []
            for _ in range(5):
                start = time.perf_counter()
                db.session.execute(text(sql)).all()
                times.append(1000 * (time.perf_counter() - start))
            times.sort()
            print(f"  {name}: min {times[0]:.1f} ms, median {times[2]:.1f} ms ({dialect.name})")
            for row in db.session.execute(text(prefix + sql)):
                print("      " + " | ".join(str(cell) for cell in row[-1:]))


# ---- one database ---------------------------------------------------------------------------

def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> tuple[list[Row], float]:
    """Prepare the database, serve the LMS and the baseline, and measure each path; the rows and demo time."""
    from devtools.demo import DEMO_PASSWORD

    def step(message: str) -> None:
        print(f"[{label}] {message}", flush=True)

    env = app_env(database_url)
    step(f"migrating, loading content, `lms demo --agents {settings.agents}`")
    demo_seconds = prepare_database(label, env, settings.agents)
    step(f"demo data built in {demo_seconds:.1f} s (the whole `lms demo` command)")
    if settings.explain:
        step("dashboard queries, timed in one process, with their plans:")
        print(run_command([sys.executable, "-c", "from bench.dashboard import explain_dashboard; "
                                                 "explain_dashboard()"], env, timeout=COMMAND_TIMEOUT)[0],
              flush=True)
    rows: list[Row] = []
    with ExitStack() as stack:
        app = stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                           ready_within=READY_WITHIN))
        bare = stack.enter_context(Gunicorn("bench.baseline_app:app", env, workdir / f"{label}-baseline.log", "/",
                                            workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                            ready_within=READY_WITHIN))
        try:
            clients = []
            for _ in range(settings.clients):
                client = Client(app.port, HTTP_TIMEOUT)
                sign_in(client, TRAINER, DEMO_PASSWORD)
                clients.append(client)
            baseline = [page_getter(Client(bare.port, HTTP_TIMEOUT), "/", b"ok") for _ in range(settings.clients)]
            for path in settings.paths:
                step(f"GET {path} ({settings.clients} clients) against the bare GET /, "
                     f"{settings.duration:.0f} s each, interleaved")
                getters = [page_getter(c, path, b"Certification dashboard") for c in clients]
                app_stats, bare_stats = measure_interleaved(getters, baseline, duration=settings.duration,
                                                            warmup=settings.warmup, slices=SLICES)
                rows.append(Row(label, f"GET {path}", app_stats, bare_stats))
                if app_stats.errors:
                    step(f"{app_stats.errors} failed requests; end of the LMS log:\n{app.log_tail()}")
        except BenchError as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
    return rows, demo_seconds


# ---- report ------------------------------------------------------------------------------------

COLUMNS = ("database", "request", "requests", "rps", "p50 ms", "p95 ms", "bare rps", "bare p50 ms",
           "bare p95 ms", "rps ratio", "p95 ratio", f"p95 < {TARGET_P95_MS:.0f} ms")


def table(rows: Sequence[Row]) -> str:
    """The results as an aligned text table."""
    lines: list[tuple[str, ...]] = [COLUMNS]
    for row in rows:
        app, bare = row.app, row.baseline
        p95 = app.percentile_ms(95)
        lines.append((
            row.database, row.measure, str(app.ok + app.errors),
            f"{app.rps:.1f}", f"{app.percentile_ms(50):.1f}", f"{p95:.1f}",
            f"{bare.rps:.1f}", f"{bare.percentile_ms(50):.1f}", f"{bare.percentile_ms(95):.1f}",
            ratio_cell(row.rps_ratio, ".3f"), ratio_cell(row.p95_ratio, ".1f"),
            "yes" if p95 < TARGET_P95_MS and not app.errors else "NO",
        ))
    return format_table(lines)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10000, help="agents in the demo company (default 10000)")
    parser.add_argument("--clients", type=int, default=4, help="client threads, each a signed-in trainer (default 4)")
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds per measure (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--database", choices=DATABASES, action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--path", action="append", dest="paths",
                        help="dashboard URL to measure (repeatable; default /dashboard)")
    parser.add_argument("--explain", action="store_true", help="also time each dashboard query and show its plan")
    args = parser.parse_args(argv)
    return Settings(agents=args.agents, clients=args.clients, duration=args.duration, warmup=args.warmup,
                    workers=args.workers, databases=tuple(args.databases or DATABASES),
                    paths=tuple(args.paths or ("/dashboard",)), explain=args.explain)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every request succeeded, 1 if some failed, 2 if the set-up failed."""
    settings = parse_args(argv)
    print(f"gunicorn: {settings.workers} sync workers; {settings.clients} client threads; "
          f"{settings.agents} agents; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
    started = time.monotonic()
    results = on_each_database(settings.databases, "callsafe-dash-", "callsafe_dash_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if results is None:
        return 2
    rows = [row for database_rows, _ in results.values() for row in database_rows]
    print()
    print(table(rows))
    print()
    for database, (_, seconds) in results.items():
        print(f"{database}: `lms demo --agents {settings.agents}` took {seconds:.1f} s")
    for row in rows:
        if row.app.errors:
            print(f"{row.database} {row.measure}: {row.app.errors} failed, first: {row.app.first_error}")
    print(f"(whole run: {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f})")
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())
