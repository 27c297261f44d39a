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
import http.client
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_APP_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
TRAINER = "trainer@northwind.example"
TARGET_P95_MS = 150.0
HTTP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 900.0
SLICES = 5  # the measure alternates app and baseline this many times


class BenchError(RuntimeError):
    """A step of the benchmark did not get the response it needs."""


@dataclass(frozen=True)
class Settings:
    agents: int
    clients: int
    duration: float
    warmup: float
    workers: int
    databases: tuple[str, ...]
    paths: tuple[str, ...]
    explain: bool


@dataclass
class Stats:
    """A burst of requests: latencies of the successful ones, failures, wall time."""

    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, latency: float, error: Exception | None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(latency)
            else:
                self.errors += 1
                self.first_error = self.first_error or f"{type(error).__name__}: {error}"

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Row:
    database: str
    path: str
    app: Stats
    baseline: Stats


# ---- HTTP ------------------------------------------------------------------------------

class Client:
    """One browser: its own cookies, a new connection per request (gunicorn's sync workers close it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: dict[str, str] | None = None) -> tuple[int, str, bytes]:
        headers = {"Connection": "close", "User-Agent": "callsafe-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), data

    def sign_in(self, email: str, password: str) -> None:
        status, _, page = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or match is None:
            raise BenchError(f"sign-in page: HTTP {status}, no CSRF token")
        status, location, _ = self.request("POST", "/login", {"email": email, "password": password,
                                                               "csrf_token": match.group(1).decode()})
        if status != 302 or location.endswith("/login"):
            raise BenchError(f"sign-in of {email}: HTTP {status} to {location!r}")


def page_getter(client: Client, path: str, must_contain: bytes) -> Callable[[], None]:
    def get() -> None:
        status, location, body = client.request("GET", path)
        if status != 200 or must_contain not in body:
            raise BenchError(f"GET {path}: HTTP {status} {location}")
    return get


def run_for(seconds: float, actions: Sequence[Callable[[], None]], stats: Stats) -> None:
    """One thread per action, calling it in a loop for `seconds`; adds to `stats`."""
    deadline = time.perf_counter() + seconds

    def loop(action: Callable[[], None]) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                action()
            except Exception as exc:  # a failed request is a result, not a crash
                stats.add(time.perf_counter() - start, exc)
            else:
                stats.add(time.perf_counter() - start, None)

    threads = [threading.Thread(target=loop, args=(action,)) for action in actions]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.elapsed += time.perf_counter() - start


def measure(app: Sequence[Callable[[], None]], baseline: Sequence[Callable[[], None]],
            settings: Settings) -> tuple[Stats, Stats]:
    """Warm both up, then time them in alternating slices (fair to both on a shared machine)."""
    run_for(settings.warmup, app, Stats())
    run_for(settings.warmup, baseline, Stats())
    app_stats, baseline_stats = Stats(), Stats()
    for _ in range(SLICES):
        run_for(settings.duration / SLICES, app, app_stats)
        run_for(settings.duration / SLICES, baseline, baseline_stats)
    return app_stats, baseline_stats


# ---- servers and databases ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, app_path: str, env: dict[str, str], workers: int, log_path: Path, ready_path: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        command = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}", "--workers", str(workers),
                   "--log-level", "warning", "--graceful-timeout", "5", "--timeout", "120", app_path]
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if Client(self.port).request("GET", ready_path)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise BenchError(f"gunicorn did not answer {ready_path} within 60 s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def served(app_path: str, env: dict[str, str], workers: int, log_path: Path, ready_path: str) -> Iterator[Gunicorn]:
    server = Gunicorn(app_path, env, workers, log_path, ready_path)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A new, empty database on the local server (dropped afterwards), or None if unreachable."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        print("note: psycopg is not installed; PostgreSQL skipped.", flush=True)
        yield None
        return
    name = f"callsafe_dash_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        print(f"note: PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc}); PostgreSQL skipped.", flush=True)
        yield None
        return
    try:
        yield PG_APP_URL.format(name=name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def app_env(database_url: str) -> dict[str, str]:
    """The environment the LMS runs with: development profile, generous sign-in limits."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "LMS_ENV": "development",
        "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "LOGIN_LIMIT_PER_IP": "100000 per minute",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    })
    return env


def run_command(args: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run a command in the repository; its output and wall time, or BenchError."""
    start = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args[3:])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout, time.perf_counter() - start


def prepare_database(label: str, env: dict[str, str], agents: int) -> float:
    """Migrate, load the content, generate the demo company; the demo command's wall time."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    run_command([*flask, "db", "upgrade"], env)
    run_command([*flask, "lms", "content", "load"], env)
    output, seconds = run_command([*flask, "lms", "demo", "--agents", str(agents)], env)
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
    from lms.demo import DEMO_PASSWORD

    def step(message: str) -> None:
        print(f"[{label}] {message}", flush=True)

    env = app_env(database_url)
    step(f"migrating, loading content, `lms demo --agents {settings.agents}`")
    demo_seconds = prepare_database(label, env, settings.agents)
    step(f"demo data built in {demo_seconds:.1f} s (the whole `lms demo` command)")
    if settings.explain:
        step("dashboard queries, timed in one process, with their plans:")
        print(run_command([sys.executable, "-c", "from bench.dashboard import explain_dashboard; "
                                                 "explain_dashboard()"], env)[0], flush=True)
    rows = []
    with ExitStack() as stack:
        app = stack.enter_context(served("wsgi:app", env, settings.workers, workdir / f"{label}-app.log", "/healthz"))
        bare = stack.enter_context(served("bench.baseline_app:app", env, settings.workers,
                                          workdir / f"{label}-baseline.log", "/"))
        try:
            clients = []
            for _ in range(settings.clients):
                client = Client(app.port)
                client.sign_in(TRAINER, DEMO_PASSWORD)
                clients.append(client)
            baseline = [page_getter(Client(bare.port), "/", b"ok") for _ in range(settings.clients)]
            for path in settings.paths:
                step(f"GET {path} ({settings.clients} clients) against the bare GET /, "
                     f"{settings.duration:.0f} s each, interleaved")
                getters = [page_getter(c, path, b"Certification dashboard") for c in clients]
                app_stats, bare_stats = measure(getters, baseline, settings)
                rows.append(Row(label, path, app_stats, bare_stats))
                if app_stats.errors:
                    step(f"{app_stats.errors} failed requests; end of the LMS log:\n{app.log_tail()}")
        except BenchError as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
    return rows, demo_seconds


# ---- report ------------------------------------------------------------------------------------

COLUMNS = ("database", "request", "requests", "rps", "p50 ms", "p95 ms", "bare rps", "bare p50 ms",
           "bare p95 ms", "rps ratio", "p95 ratio", f"p95 < {TARGET_P95_MS:.0f} ms")


def table(rows: Sequence[Row]) -> str:
    lines = [COLUMNS]
    for row in rows:
        app, bare = row.app, row.baseline
        p95 = app.percentile_ms(95)
        lines.append((
            row.database, f"GET {row.path}", str(len(app.latencies) + app.errors),
            f"{app.rps:.1f}", f"{app.percentile_ms(50):.1f}", f"{p95:.1f}",
            f"{bare.rps:.1f}", f"{bare.percentile_ms(50):.1f}", f"{bare.percentile_ms(95):.1f}",
            f"{app.rps / bare.rps:.3f}" if bare.rps else "n/a",
            f"{p95 / bare.percentile_ms(95):.1f}" if bare.latencies else "n/a",
            "yes" if p95 < TARGET_P95_MS and not app.errors else "NO",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip() for line in lines)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10000, help="agents in the demo company (default 10000)")
    parser.add_argument("--clients", type=int, default=4, help="client threads, each a signed-in trainer (default 4)")
    parser.add_argument("--duration", type=float, default=10.0, help="timed seconds per measure (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--path", action="append", dest="paths",
                        help="dashboard URL to measure (repeatable; default /dashboard)")
    parser.add_argument("--explain", action="store_true", help="also time each dashboard query and show its plan")
    args = parser.parse_args(argv)
    return Settings(agents=args.agents, clients=args.clients, duration=args.duration, warmup=args.warmup,
                    workers=args.workers, databases=tuple(args.databases or ("sqlite", "postgresql")),
                    paths=tuple(args.paths or ("/dashboard",)), explain=args.explain)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    print(f"gunicorn: {settings.workers} sync workers; {settings.clients} client threads; "
          f"{settings.agents} agents; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
    rows: list[Row] = []
    builds: dict[str, float] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callsafe-dash-") as tmp:
        workdir = Path(tmp)
        try:
            if "sqlite" in settings.databases:
                found, builds["sqlite"] = bench_database("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}",
                                                         settings, workdir)
                rows += found
            if "postgresql" in settings.databases:
                with postgres_database() as url:
                    if url is not None:
                        found, builds["postgresql"] = bench_database("postgresql", url, settings, workdir)
                        rows += found
        except BenchError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return 2
    print()
    print(table(rows))
    print()
    for database, seconds in builds.items():
        print(f"{database}: `lms demo --agents {settings.agents}` took {seconds:.1f} s")
    for row in rows:
        if row.app.errors:
            print(f"{row.database} GET {row.path}: {row.app.errors} failed, first: {row.app.first_error}")
    print(f"(whole run: {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f})")
    return 1 if any(row.app.errors or row.baseline.errors for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
