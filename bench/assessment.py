"""Load benchmark of taking a quiz: saving an answer and submitting an attempt.

For SQLite and PostgreSQL in turn, it prepares a fresh database (migrations,
content, bench agents), serves the LMS with gunicorn next to a bare Flask app
with the same worker settings (bench/baseline_app.py), signs the agents in,
starts an attempt for each, then measures concurrent requests against both
servers and prints one table comparing them.

Run from anywhere: `python bench/assessment.py` (see bench/README.md).
Everything listens on 127.0.0.1 and is torn down at the end, on error too.
"""
from __future__ import annotations

import argparse
import http.client
import json
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
QUIZ_SLUG = "gdpr-essentials"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_APP_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
AGENT_EMAIL = "bench-agent-{n:03d}@bench.example"
HTTP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
ANSWERED_BEFORE_SUBMIT = 3  # questions each agent answers before its attempt is submitted
SUBMIT_WARMUP = 4  # attempts submitted, unmeasured, to warm the workers up
INTERLEAVED_SLICES = 4  # the save measure alternates app and baseline this many times


class BenchError(RuntimeError):
    """A step of the benchmark did not get the response it needs."""


# ---- settings and results ------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    agents: int
    concurrency: int
    duration: float
    warmup: float
    workers: int
    threads: int
    databases: tuple[str, ...]


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
    """One line of the final table: a measure on one database, against the baseline."""

    database: str
    measure: str
    app: Stats
    baseline: Stats


# ---- HTTP client -----------------------------------------------------------------------

@dataclass(frozen=True)
class Response:
    """What the bench keeps of an HTTP response."""

    status: int
    location: str
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.body)

    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


class Client:
    """One browser: its own cookies; a new connection per request, like a real agent.

    Real agents save an answer every few seconds at most, well past gunicorn's
    2 s keep-alive, so each request opens a connection (and gunicorn balances
    connections, not requests, across its workers).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Response:
        """GET a page."""
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str], *, want_json: bool = False) -> Response:
        """POST a form, as a browser (or, with want_json, the autosave script) does."""
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
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=HTTP_TIMEOUT)
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
        return Response(raw.status, raw.headers.get("Location", ""), data)


class PageForm(HTMLParser):
    """The CSRF token and the answer controls found on a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.csrf_token = ""
        self.options: list[str] = []  # radio or checkbox values named "option"
        self.positions: list[str] = []  # the selects of an ordering question
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect the first CSRF token and the answer controls."""
        attributes = dict(attrs)
        name = attributes.get("name") or ""
        if tag == "input" and name == "csrf_token" and not self.csrf_token:
            self.csrf_token = attributes.get("value") or ""
        elif tag == "input" and name == "option":
            self.options.append(attributes.get("value") or "")
        elif tag == "select" and name.startswith("position-"):
            self.positions.append(name)

    def answers(self) -> list[dict[str, str]]:
        """Every answer this page accepts that the bench uses (one per option, or one ordering)."""
        if self.options:
            return [{"option": option} for option in self.options]
        if self.positions:
            return [{name: str(n) for n, name in enumerate(self.positions, start=1)}]
        raise BenchError("the question page has no answer controls")


def expect_json(response: Response, key: str, what: str) -> None:
    """Require a 200 JSON reply whose `key` is true (`saved`, `submitted`)."""
    try:
        ok = response.status == 200 and response.json().get(key) is True
    except ValueError:  # not JSON: an error page
        ok = False
    if not ok:
        raise BenchError(f"{what}: HTTP {response.status} {response.text()[:200]!r}")


def page_form(response: Response, what: str) -> PageForm:
    """Parse a page that must be a 200 with a CSRF token in it."""
    if response.status != 200:
        raise BenchError(f"{what}: HTTP {response.status}")
    form = PageForm(response.text())
    if not form.csrf_token:
        raise BenchError(f"{what}: no csrf_token on the page")
    return form


# ---- an agent taking the quiz ----------------------------------------------------------

@dataclass
class Agent:
    """A signed-in agent with one attempt in progress."""

    client: Client
    attempt_id: int
    csrf_token: str
    first_answers: list[dict[str, str]]  # what question 1 accepts, to alternate between

    def save_first_answer(self, n: int) -> None:
        """Save (autosave, JSON) one of the answers to question 1."""
        fields = {"csrf_token": self.csrf_token, "action": "save", **self.first_answers[n % len(self.first_answers)]}
        response = self.client.post(f"/attempts/{self.attempt_id}/questions/1", fields, want_json=True)
        expect_json(response, "saved", "save answer")

    def submit(self) -> None:
        """Submit the attempt for grading (JSON)."""
        response = self.client.post(f"/attempts/{self.attempt_id}/submit", {"csrf_token": self.csrf_token},
                                    want_json=True)
        expect_json(response, "submitted", "submit")


def sign_in_and_start(port: int, email: str, password: str) -> Agent:
    """Sign in, start the quiz, and save answers to the first questions (as the JS autosave does)."""
    client = Client(port)
    login = page_form(client.get("/login"), "sign-in page")
    response = client.post("/login", {"email": email, "password": password, "csrf_token": login.csrf_token})
    if response.status != 302:
        raise BenchError(f"sign-in of {email}: HTTP {response.status} (expected a redirect)")
    quiz = page_form(client.get(f"/quizzes/{QUIZ_SLUG}"), "quiz page")
    response = client.post(f"/quizzes/{QUIZ_SLUG}/start", {"csrf_token": quiz.csrf_token})
    match = re.fullmatch(r"/attempts/(\d+)/questions/\d+", urlsplit(response.location).path)
    if response.status != 302 or match is None:
        raise BenchError(f"start of {QUIZ_SLUG}: HTTP {response.status} to {response.location!r}")
    attempt_id = int(match.group(1))
    first_answers: list[dict[str, str]] = []
    csrf_token = quiz.csrf_token
    for position in range(1, ANSWERED_BEFORE_SUBMIT + 1):
        page = page_form(client.get(f"/attempts/{attempt_id}/questions/{position}"), f"question {position}")
        csrf_token = page.csrf_token
        answers = page.answers()
        first_answers = first_answers or answers
        fields = {"csrf_token": csrf_token, "action": "save", **answers[0]}
        response = client.post(f"/attempts/{attempt_id}/questions/{position}", fields, want_json=True)
        expect_json(response, "saved", f"saving question {position}")
    return Agent(client, attempt_id, csrf_token, first_answers)


# ---- load generation -------------------------------------------------------------------

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


def run_each(actions: Sequence[Callable[[], None]], concurrency: int) -> Stats:
    """Run every action once, `concurrency` at a time."""
    stats = Stats()
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(partial(timed, stats), actions))
    stats.elapsed = time.perf_counter() - start
    return stats


def baseline_post(port: int) -> Callable[[int], None]:
    """The bare app's counterpart of saving an answer, as one client's request."""
    fields = {"csrf_token": "x" * 90, "option": "refuse-ask-fallback", "action": "save"}

    def post(_: int) -> None:
        expect_json(Client(port).post("/answer", fields, want_json=True), "saved", "baseline")

    return post


def measure_interleaved(app: Sequence[Callable[[int], None]], baseline: Sequence[Callable[[int], None]],
                        settings: Settings) -> tuple[Stats, Stats]:
    """Time the app and the baseline in alternating slices, `duration` seconds each in all.

    Alternating spreads any outside load on the machine over both, which keeps
    their ratio meaningful on a shared box.
    """
    run_for(settings.warmup, app)
    run_for(settings.warmup, baseline)
    app_stats, baseline_stats = Stats(), Stats()
    for _ in range(INTERLEAVED_SLICES):
        run_for(settings.duration / INTERLEAVED_SLICES, app, app_stats)
        run_for(settings.duration / INTERLEAVED_SLICES, baseline, baseline_stats)
    return app_stats, baseline_stats


# ---- servers and databases --------------------------------------------------------------

def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Gunicorn:
    """A gunicorn serving `app_path` on a free local port, until stop()."""

    def __init__(self, app_path: str, env: dict[str, str], settings: Settings, log_path: Path,
                 ready_path: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        command = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}",
                   "--workers", str(settings.workers), "--threads", str(settings.threads),
                   "--log-level", "warning", "--graceful-timeout", "5", app_path]
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(ready_path)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path: str, timeout: float = 30.0) -> None:
        """Poll `path` until it answers 200; fail early if gunicorn exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if Client(self.port).get(path).status == 200:
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


@contextmanager
def served(app_path: str, env: dict[str, str], settings: Settings, log_path: Path,
           ready_path: str) -> Iterator[Gunicorn]:
    """A running Gunicorn for the duration of the block, stopped however the block ends."""
    server = Gunicorn(app_path, env, settings, log_path, ready_path)
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
    name = f"callsafe_bench_{secrets.token_hex(4)}"
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
    })
    return env


def run_command(args: list[str], env: dict[str, str]) -> None:
    """Run a set-up command in the project directory; its output is shown only if it fails."""
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args[1:])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def prepare_database(env: dict[str, str], agents: int, password: str) -> None:
    """Migrate, load the content and create the bench agents, as an operator would."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    run_command([*flask, "db", "upgrade"], env)
    run_command([*flask, "lms", "content", "load"], env)
    script = f"from bench.assessment import create_agents; create_agents({agents})"
    run_command([sys.executable, "-c", script], {**env, "BENCH_AGENT_PASSWORD": password})


def create_agents(count: int) -> None:
    """Create an organisation and `count` agents with the password in BENCH_AGENT_PASSWORD.

    Runs in a subprocess whose environment points the app at the bench database.
    """
    from lms import create_app
    from lms.accounts.models import OrganisationKind, Role
    from lms.accounts.services import OrganisationData, UserData, create_user, save_organisation, set_password
    from lms.extensions import db

    password = os.environ["BENCH_AGENT_PASSWORD"]
    with create_app().app_context():
        org = save_organisation(None, OrganisationData(name="Bench Contact Centre", kind=OrganisationKind.CLIENT,
                                                       country="IE"))
        for n in range(count):
            user = create_user(None, UserData(email=AGENT_EMAIL.format(n=n), name=f"Bench Agent {n}",
                                              role=Role.AGENT, organisation_id=org.id))
            set_password(None, user, password)
        db.session.commit()


# ---- one database -----------------------------------------------------------------------

def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> list[Row]:
    """Prepare the database, serve the LMS and the baseline, and measure both measures."""
    started = time.monotonic()

    def step(message: str) -> None:
        print(f"[{label} {time.monotonic() - started:5.1f} s] {message}", flush=True)

    env = app_env(database_url)
    password = secrets.token_urlsafe(16)
    step(f"migrating, loading content, creating {settings.agents} agents")
    prepare_database(env, settings.agents, password)
    with ExitStack() as stack:
        app = stack.enter_context(served("wsgi:app", env, settings, workdir / f"{label}-app.log", "/healthz"))
        baseline = stack.enter_context(
            served("bench.baseline_app:app", env, settings, workdir / f"{label}-baseline.log", "/"))
        try:
            step("signing agents in and starting their attempts")
            with ThreadPoolExecutor(settings.concurrency) as pool:
                agents = list(pool.map(lambda n: sign_in_and_start(app.port, AGENT_EMAIL.format(n=n), password),
                                       range(settings.agents)))

            step(f"saving answers ({settings.concurrency} agents) and the baseline POST "
                 f"({settings.concurrency} clients), {settings.duration:.0f} s each, interleaved")
            save, bare = measure_interleaved([agent.save_first_answer for agent in agents[:settings.concurrency]],
                                             [baseline_post(baseline.port)] * settings.concurrency, settings)

            step(f"submitting {len(agents) - SUBMIT_WARMUP} attempts, {settings.concurrency} at a time")
            run_each([agent.submit for agent in agents[:SUBMIT_WARMUP]], settings.concurrency)
            submit = run_each([agent.submit for agent in agents[SUBMIT_WARMUP:]], settings.concurrency)
        except (BenchError, OSError) as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
        if save.errors or submit.errors:
            print(f"[{label}] some requests failed; end of the LMS log:\n{app.log_tail()}", flush=True)
    return [Row(label, "save answer", save, bare), Row(label, "submit attempt", submit, bare)]


# ---- report -----------------------------------------------------------------------------

COLUMNS = ("database", "measure", "app rps", "app p50 ms", "app p95 ms", "baseline rps", "baseline p50 ms",
           "baseline p95 ms", "throughput ratio", "p95 ratio", "requests", "errors")


def table(rows: Sequence[Row]) -> str:
    """The results as an aligned text table."""
    lines = [COLUMNS]
    for row in rows:
        app, bare = row.app, row.baseline
        lines.append((
            row.database, row.measure,
            f"{app.rps:.1f}", f"{app.percentile_ms(50):.1f}", f"{app.percentile_ms(95):.1f}",
            f"{bare.rps:.1f}", f"{bare.percentile_ms(50):.1f}", f"{bare.percentile_ms(95):.1f}",
            f"{app.rps / bare.rps:.2f}" if bare.rps else "n/a",
            f"{app.percentile_ms(95) / bare.percentile_ms(95):.1f}" if bare.ok else "n/a",
            str(app.ok + app.errors), str(app.errors),
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(line, widths, strict=True))).rstrip()
                     for line in lines)


def verdicts(rows: Sequence[Row]) -> list[str]:
    """The target (saving an answer reaches 1/3 of the bare endpoint's throughput), load and failures."""
    notes = []
    for row in rows:
        if row.measure == "save answer":
            ratio = row.app.rps / row.baseline.rps if row.baseline.rps else 0.0
            notes.append(f"{row.database}: save answer at {ratio:.2f} of the baseline throughput: "
                         f"{'meets' if ratio >= 1 / 3 else 'MISSES'} the 1/3 target")
            notes.append(f"{row.database}: the load generator used {row.app.client_cores:.2f} cores while "
                         f"saving answers, {row.baseline.client_cores:.2f} during the baseline")
            if row.baseline.errors:
                notes.append(f"{row.database} baseline: {row.baseline.errors} failed, "
                             f"first: {row.baseline.first_error}")
        if row.app.errors:
            notes.append(f"{row.database} {row.measure}: {row.app.errors} failed, first: {row.app.first_error}")
    return notes


# ---- entry point ------------------------------------------------------------------------

def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=64, help="agents signed in, one attempt each (default 64)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of timed saving, per server (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker; 1 = sync workers (default 1, see README)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    args = parser.parse_args(argv)
    if args.agents < max(args.concurrency, SUBMIT_WARMUP + 1):
        parser.error(f"--agents must be at least --concurrency and more than {SUBMIT_WARMUP}")
    return Settings(agents=args.agents, concurrency=args.concurrency, duration=args.duration, warmup=args.warmup,
                    workers=args.workers, threads=args.threads,
                    databases=tuple(args.databases or ("sqlite", "postgresql")))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every request succeeded, 1 if some failed, 2 if the set-up failed."""
    settings = parse_args(argv)
    print(f"gunicorn: {settings.workers} workers x {settings.threads} thread(s); "
          f"{settings.concurrency} concurrent clients; {settings.agents} agents per database", flush=True)
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callsafe-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if "sqlite" in settings.databases:
                rows += bench_database("sqlite", f"sqlite:///{workdir / 'bench.sqlite3'}", settings, workdir)
            if "postgresql" in settings.databases:
                with postgres_database() as url:
                    if url is not None:
                        rows += bench_database("postgresql", url, settings, workdir)
        except BenchError as exc:
            print(f"bench failed: {exc}", file=sys.stderr)
            return 2
    print()
    print(table(rows))
    print()
    for note in verdicts(rows):
        print(note)
    print(f"(whole run: {time.monotonic() - started:.0f} s)")
    return 1 if any(row.app.errors or row.baseline.errors for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
