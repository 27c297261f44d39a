"""What the load benchmarks in bench/ share (assessment.py, dashboard.py).

A temporary database per run (an SQLite file, or a new PostgreSQL database
that is dropped afterwards) prepared with the LMS's own commands; gunicorn
serving an app on a free port of 127.0.0.1; a cookie-keeping HTTP client that
signs in through the real form; threads that time requests, in slices that
alternate the app with the bare baseline app; latency statistics and the
aligned text table. Nothing here is specific to one benchmark.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_APP_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
DATABASES = ("sqlite", "postgresql")  # what --database chooses from; both by default

T = TypeVar("T")
FormT = TypeVar("FormT", bound="Form")


class BenchError(RuntimeError):
    """A step of the benchmark did not get the response it needs."""


# ---- results -------------------------------------------------------------------------------

@dataclass
class Stats:
    """The outcome of a burst of requests: successes, failures, latencies and wall time."""

    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the load generator itself spent meanwhile
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    first_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, latency: float, error: Exception | None) -> None:
        """Record one request (thread-safe)."""
        with self.lock:
            if error is None:
                self.latencies.append(latency)
            else:
                self.errors += 1
                self.first_error = self.first_error or f"{type(error).__name__}: {error}"

    @property
    def ok(self) -> int:
        """Successful requests."""
        return len(self.latencies)

    @property
    def rps(self) -> float:
        """Successful requests per second of wall time."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def client_cores(self) -> float:
        """How many cores the load generator kept busy (it shares the machine with the servers)."""
        return self.client_cpu / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the successful requests' latency, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Row:
    """One line of a final table: a measure on one database, against the baseline."""

    database: str
    measure: str
    app: Stats
    baseline: Stats

    @property
    def rps_ratio(self) -> float | None:
        """App throughput / baseline throughput; None if the baseline served nothing."""
        return self.app.rps / self.baseline.rps if self.baseline.rps else None

    @property
    def p95_ratio(self) -> float | None:
        """App p95 / baseline p95; None if the baseline served nothing."""
        return self.app.percentile_ms(95) / self.baseline.percentile_ms(95) if self.baseline.ok else None


def exit_status(rows: Sequence[Row]) -> int:
    """0 if every request succeeded (app and baseline), 1 if some failed."""
    return 1 if any(row.app.errors or row.baseline.errors for row in rows) else 0


def ratio_cell(ratio: float | None, spec: str) -> str:
    """A ratio formatted with `spec` for the table, or "n/a"."""
    return "n/a" if ratio is None else format(ratio, spec)


def format_table(lines: Sequence[Sequence[str]], left: int = 2) -> str:
    """Aligned text columns; `lines[0]` is the header, the first `left` columns are left-aligned."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(width) if i < left else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(line, widths, strict=True))).rstrip()
                     for line in lines)


# ---- HTTP client ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Response:
    """What the bench keeps of an HTTP response."""

    status: int
    location: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.body)

    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


class Client:
    """One browser: its own cookies; a new connection per request, like a real user.

    Real users send a request every few seconds at most, well past gunicorn's
    2 s keep-alive (and sync workers close every connection), so each request
    opens a connection; gunicorn balances connections, not requests, across
    its workers.
    """

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Response:
        """GET a page."""
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str], *, want_json: bool = False) -> Response:
        """POST a form, as a browser (or, with want_json, a page's script) does."""
        return self.request("POST", path, fields, want_json=want_json)

    def request(self, method: str, path: str, fields: dict[str, str] | None = None, *,
                want_json: bool = False) -> Response:
        """Send one request on a new connection; keep the cookies the server sets or clears."""
        headers = {"Connection": "close", "User-Agent": "callsafe-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if want_json:
            headers["Accept"] = "application/json"
        body = None
        if fields is not None:
            body = urlencode(fields, doseq=True)  # a list value repeats the name (checkboxes)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
        finally:
            conn.close()
        for header in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(raw.status, raw.headers.get("Location", ""), data, dict(raw.headers.items()))


class Form(HTMLParser):
    """The first CSRF token on a page. Subclasses collect more in handle_starttag."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.csrf_token = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep the value of the first input named csrf_token."""
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name") == "csrf_token" and not self.csrf_token:
            self.csrf_token = attributes.get("value") or ""


def read_form(response: Response, what: str, kind: type[FormT]) -> FormT:
    """Parse a page that must be a 200 with a CSRF token in it, with the parser `kind`."""
    if response.status != 200:
        raise BenchError(f"{what}: HTTP {response.status}")
    form = kind(response.text())
    if not form.csrf_token:
        raise BenchError(f"{what}: no csrf_token on the page")
    return form


def sign_in(client: Client, email: str, password: str) -> None:
    """Sign in through the real form (CSRF token, then the session cookie in `client`)."""
    login = read_form(client.get("/login"), "sign-in page", Form)
    response = client.post("/login", {"email": email, "password": password, "csrf_token": login.csrf_token})
    if response.status != 302 or response.location.endswith("/login"):
        raise BenchError(f"sign-in of {email}: HTTP {response.status} to {response.location!r} "
                         "(expected a redirect away from the sign-in page)")


# ---- load generation -----------------------------------------------------------------------

def timed(stats: Stats, action: Callable[[], None]) -> None:
    """Run one request and record its latency, or its failure."""
    start = time.perf_counter()
    try:
        action()
    except Exception as exc:  # a failed request is a result, not a crash
        stats.add(time.perf_counter() - start, exc)
    else:
        stats.add(time.perf_counter() - start, None)


def run_for(seconds: float, actions: Sequence[Callable[[int], None]], stats: Stats | None = None) -> Stats:
    """One thread per action, each calling it in a loop (with a counter) for `seconds`.

    Adds to `stats` when given, so that interleaved slices make up one measure.
    """
    stats = stats if stats is not None else Stats()
    deadline = time.perf_counter() + seconds

    def loop(action: Callable[[int], None]) -> None:
        n = 0
        while time.perf_counter() < deadline:
            timed(stats, partial(action, n))
            n += 1

    threads = [threading.Thread(target=loop, args=(action,)) for action in actions]
    start, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.elapsed += time.perf_counter() - start
    stats.client_cpu += time.process_time() - cpu
    return stats


def measure_interleaved(app: Sequence[Callable[[int], None]], baseline: Sequence[Callable[[int], None]], *,
                        duration: float, warmup: float, slices: int) -> tuple[Stats, Stats]:
    """Warm both up for `warmup` s, then time them in `slices` alternating slices, `duration` s each in all.

    Alternating spreads any outside load on the machine over both, which keeps
    their ratio meaningful on a shared box.
    """
    run_for(warmup, app)
    run_for(warmup, baseline)
    app_stats, baseline_stats = Stats(), Stats()
    for _ in range(slices):
        run_for(duration / slices, app, app_stats)
        run_for(duration / slices, baseline, baseline_stats)
    return app_stats, baseline_stats


# ---- servers ---------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Gunicorn:
    """gunicorn serving `app_path` on a free local port, from the repository, until stop().

    Starts on construction and returns once `ready_path` answers 200. Also a
    context manager that stops it however the block ends.
    """

    def __init__(self, app_path: str, env: dict[str, str], log_path: Path, ready_path: str, *, workers: int,
                 threads: int = 1, worker_timeout: int = 30, ready_within: float = 30.0) -> None:
        """`threads` > 1 makes gthread workers; `worker_timeout` is gunicorn's --timeout (its default, 30)."""
        self.port = free_port()
        self.log_path = log_path
        command = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}",
                   "--workers", str(workers), "--threads", str(threads), "--timeout", str(worker_timeout),
                   "--log-level", "warning", "--graceful-timeout", "5", app_path]
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(ready_path, ready_within)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path: str, timeout: float) -> None:
        """Poll `path` until it answers 200; fail early if gunicorn exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if Client(self.port, timeout).get(path).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer {path} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """The last lines gunicorn and the app wrote (tracebacks of failed requests)."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Graceful shutdown, killed after 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


# ---- databases and set-up commands -------------------------------------------------------------

@contextmanager
def postgres_database(prefix: str) -> Iterator[str | None]:
    """A new, empty database `<prefix><random>` on the local server, dropped afterwards.

    Yields its SQLAlchemy URL, or None (with a note) if psycopg or the server is missing.
    """
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        print("note: psycopg is not installed; PostgreSQL skipped.", flush=True)
        yield None
        return
    name = f"{prefix}{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        reason = str(exc).splitlines()[0]
        print(f"note: PostgreSQL at {PG_ADMIN_URL} is unreachable ({reason}); PostgreSQL skipped.", flush=True)
        yield None
        return
    try:
        yield PG_APP_URL.format(name=name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def on_each_database(databases: Sequence[str], tmp_prefix: str, pg_prefix: str,
                     bench: Callable[[str, str, Path], T]) -> dict[str, T] | None:
    """Call bench(label, database URL, work directory) for each chosen database, in order.

    The work directory is a temporary one (prefix `tmp_prefix`) for the logs,
    removed at the end. SQLite is a file in it; PostgreSQL a temporary database
    (see postgres_database), left out when unreachable and dropped afterwards.
    Returns the results by label, or None after printing why, if a BenchError
    stopped the set-up.
    """
    results: dict[str, T] = {}
    with tempfile.TemporaryDirectory(prefix=tmp_prefix) as tmp:
        workdir = Path(tmp)
        try:
            if "sqlite" in databases:
                results["sqlite"] = bench("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}", workdir)
            if "postgresql" in databases:
                with postgres_database(pg_prefix) as url:
                    if url is not None:
                        results["postgresql"] = bench("postgresql", url, workdir)
        except BenchError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return None
    return results


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
        "AUDIT_CHECKPOINT_FILE": "",  # a throwaway database's checkpoints must not join the project's file
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    })
    return env


def flask(*args: str) -> list[str]:
    """The command line of `flask --app wsgi ARGS` with this interpreter."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_command(args: list[str], env: dict[str, str], *, timeout: float) -> tuple[str, float]:
    """Run a set-up command in the repository; its output and wall time.

    Its output is shown (in the BenchError) only if it fails.
    """
    start = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args[1:])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout, time.perf_counter() - start


def migrate_and_load_content(env: dict[str, str], *, timeout: float) -> None:
    """`flask db upgrade` and `flask lms content load`, as an operator would."""
    run_command(flask("db", "upgrade"), env, timeout=timeout)
    run_command(flask("lms", "content", "load"), env, timeout=timeout)
