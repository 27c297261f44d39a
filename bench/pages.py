"""Load benchmark of the pages signed-in people read most, against bare Flask (issue #17).

For SQLite and PostgreSQL in turn, it prepares a fresh database the way an
operator would (`flask db upgrade`, `lms content load`, `lms demo --agents N`),
serves the LMS with gunicorn next to the bare Flask app in bench/baseline_app.py
with the same worker settings, signs in 32 demo agents (each starting the quiz,
so that it has a question page to read) and a few trainer sessions, and then
drives each page with wrk, every request carrying the next agent's session
cookie in turn. Each page is timed in slices that alternate with the bare app's
GET / under the same wrk settings, and the table gives throughput, p99 and the
ratio to bare for each page, and the dashboard's p95, against issue #17's targets.

Run from anywhere: `python bench/pages.py` (see bench/README.md). It needs wrk
(Debian package `wrk`). Everything listens on 127.0.0.1 and is torn down at the
end, on error too.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, BenchError, Client, Form, Gunicorn, app_env, flask, format_table, migrate_and_load_content,
    on_each_database, read_form, run_command, sign_in,
)

QUIZ_SLUG = "gdpr-essentials"
TRAINER = "trainer@northwind.example"
HTTP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 900.0
WORKER_TIMEOUT = 120  # gunicorn's --timeout: a slow page is a result, not a dead worker
READY_WITHIN = 60.0
SLICES = 2  # each page alternates with the bare app this many times
MISSING_PATH = "/no-such-page"  # matches no route: the signed-in 404 is the per-request machinery alone
# The sign-out form, in the navigation of every signed-in page (the 404 included), in every
# language: some demo agents read the academy in their partner organisation's language.
SIGNED_IN_MARKER = 'action="/logout"'


@dataclass(frozen=True)
class Page:
    """A measure: the path each session requests, what it must answer, and the targets."""

    name: str
    path: str  # formatted with a session's own values (its attempt id)
    status: int
    marker: str  # text every reply must contain
    min_ratio: float | None  # throughput / bare throughput, at least
    max_p99_ms: float | None
    max_p95_ms: float | None = None
    staff: bool = False  # the trainer's sessions, with --dashboard-connections


PAGES = (
    Page("quiz question page", "/attempts/{attempt_id}/questions/1", 200, "csrf_token", 0.25, 50.0),
    Page("lesson page", "/courses/{course}/lessons/{lesson}", 200, SIGNED_IN_MARKER, 0.25, 50.0),
    Page("course list", "/courses", 200, SIGNED_IN_MARKER, 0.25, 50.0),
    Page("agent home", "/", 200, SIGNED_IN_MARKER, 0.15, 50.0),
    Page("signed-in 404", MISSING_PATH, 404, SIGNED_IN_MARKER, 0.4, None),
    Page("dashboard", "/dashboard", 200, "Certification dashboard", None, None, 100.0, staff=True),
)
# With --floor: the same 404 from bench/stack_floor_app.py, the least the mandated stack does for a
# signed-in page. A reference for the targets, with none of its own.
FLOOR_PAGE = Page("stack floor: signed-in 404", MISSING_PATH, 404, SIGNED_IN_MARKER, None, None)
USER_AGENT = "callsafe-bench"  # every request's (see WRK_SCRIPT)


@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    agents: int
    sessions: int
    trainer_sessions: int
    duration: float
    warmup: float
    workers: int
    wrk_threads: int
    connections: int
    dashboard_connections: int
    databases: tuple[str, ...]
    pages: tuple[str, ...]
    profile: int  # requests per page to profile in one process first; 0: none
    floor: bool  # also time bench/stack_floor_app.py's signed-in 404


# ---- wrk -----------------------------------------------------------------------------------

# Each wrk thread reads the request file (one "path<TAB>Cookie header" line per session), builds
# every request once, and sends them in turn from its own starting point. Every reply is checked
# for the expected status and a marker in its body (a signed-out reply would be a redirect to
# the sign-in page, or a page without "Sign out"); done() prints the summary as one JSON line.
WRK_SCRIPT = r"""
-- bad and first_bad are globals: done() reads them from each thread with thread:get.
bad, first_bad = 0, ""
local requests, next_index, expected_status, marker = {}, 1, nil, nil
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  expected_status, marker = tonumber(args[2]), args[3]
  for line in io.lines(args[1]) do
    local path, cookie = line:match("^([^\t]*)\t(.*)$")
    -- The sign-in's User-Agent: Flask-Login's session protection marks a session whose
    -- browser changed as not fresh, which rewrites the cookie on every request.
    local headers = {["User-Agent"] = "callsafe-bench"}
    if cookie ~= "" then headers["Cookie"] = cookie end
    table.insert(requests, wrk.format("GET", path, headers))
  end
  next_index = (offset or 0) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  if status ~= expected_status or (marker ~= "" and not body:find(marker, 1, true)) then
    bad = bad + 1
    if first_bad == "" then first_bad = "HTTP " .. status .. " " .. (headers["Location"] or "") end
  end
end

function done(summary, latency, requests)
  local wrong, first = 0, ""
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("bad")
    if first == "" then first = thread:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.6f, "p50": %.3f, "p95": %.3f, "p99": %.3f, "socket_errors": %d, ' ..
    '"wrong": %d, "first_wrong": "%s"}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, e.connect + e.read + e.write + e.timeout, wrong, first:gsub('"', "'")))
end
"""


@dataclass
class Slices:
    """One server's slices of one page: requests and time add up; percentiles are per slice."""

    requests: int = 0
    seconds: float = 0.0
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    errors: int = 0  # socket errors and replies with the wrong status or body
    first_error: str = ""

    def add(self, result: dict) -> None:
        """Add one wrk run's summary."""
        self.requests += result["requests"]
        self.seconds += result["seconds"]
        self.p50.append(result["p50"])
        self.p95.append(result["p95"])
        self.p99.append(result["p99"])
        errors = result["socket_errors"] + result["wrong"]
        self.errors += errors
        if errors and not self.first_error:
            self.first_error = result["first_wrong"] or f"{result['socket_errors']} socket errors"

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def worst(self, values: list[float]) -> float:
        """The highest slice's percentile: conservative, as wrk keeps no latencies across runs."""
        return max(values) if values else math.nan


class Wrk:
    """Runs wrk with the script above against one server."""

    def __init__(self, workdir: Path, threads: int) -> None:
        self.workdir = workdir
        self.threads = threads
        self.script = workdir / "pages.lua"
        self.script.write_text(WRK_SCRIPT)

    def run(self, port: int, lines: Sequence[tuple[str, str]], status: int, marker: str, *, connections: int,
            seconds: float, name: str) -> dict:
        """Send the requests in `lines` ((path, cookie header) pairs) in turn for `seconds` (wrk takes
        whole seconds); wrk's summary."""
        request_file = self.workdir / f"{name}.requests"
        request_file.write_text("".join(f"{path}\t{cookie}\n" for path, cookie in lines))
        command = ["wrk", f"-t{min(self.threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                   "--timeout", "30s", "-s", str(self.script), f"http://127.0.0.1:{port}",
                   "--", str(request_file), str(status), marker]
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        summary = next((line[4:] for line in result.stdout.splitlines() if line.startswith("WRK ")), None)
        if result.returncode != 0 or summary is None:
            raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return json.loads(summary)


# ---- sessions ------------------------------------------------------------------------------

def cookie_header(client: Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def agent_session(port: int, email: str, password: str) -> dict[str, str] | None:
    """Sign an agent in and start the quiz; its cookie header and attempt id, or None if the quiz
    will not start for them (their history may hold a recent attempt: the quiz has a cooldown)."""
    client = Client(port, HTTP_TIMEOUT)
    sign_in(client, email, password)
    quiz = read_form(client.get(f"/quizzes/{QUIZ_SLUG}"), "quiz page", Form)
    response = client.post(f"/quizzes/{QUIZ_SLUG}/start", {"csrf_token": quiz.csrf_token})
    match = re.fullmatch(r"/attempts/(\d+)/questions/\d+", urlsplit(response.location).path)
    if response.status != 302 or match is None:
        return None
    return {"cookie": cookie_header(client), "attempt_id": match.group(1)}


def pick_agents(count: int) -> None:
    """Print, as JSON, the e-mails of `count` active demo agents with enrolments, and a lesson
    of the quiz's course. Runs in a subprocess whose environment points at the bench database."""
    from sqlalchemy import select

    from lms import create_app
    from lms.accounts.models import Role, User
    from lms.certification.models import Enrolment
    from lms.extensions import db
    from lms.learning.models import Course, CourseVersion, Lesson

    with create_app().app_context():
        enrolled = select(Enrolment.user_id)
        emails = db.session.scalars(select(User.email).where(
            User.role == Role.AGENT, User.active.is_(True), User.id.in_(enrolled)).order_by(User.id).limit(count))
        slug, lesson = db.session.execute(
            select(Course.slug, Lesson.key).join(CourseVersion, CourseVersion.id == Course.current_version_id)
            .join(Lesson, Lesson.course_version_id == CourseVersion.id)
            .where(CourseVersion.quiz_slug == QUIZ_SLUG).order_by(Lesson.position).limit(1)).one()
        print(json.dumps({"emails": list(emails), "course": slug, "lesson": lesson}))


# ---- where the time goes ---------------------------------------------------------------------

def profile_pages(requests: int) -> None:
    """Count each page's SQL statements and profile `requests` of it with pyinstrument, in one process.

    Runs in a subprocess whose environment points at the bench database. One agent (the first
    that can start the quiz) and the trainer are signed in through the forms on the test client;
    statements are counted as tests/evidence/test_certificate_download.py counts them (through
    SQLAlchemy and on the driver's cursor).
    """
    from pyinstrument import Profiler
    from sqlalchemy import event

    import lms.driver_statements
    from lms import create_app
    from devtools.demo import DEMO_PASSWORD
    from lms.extensions import db

    picked = _picked(4)
    app = create_app()
    seen: list[str] = []
    original = lms.driver_statements._cursor

    def driver(connection, compiled, parameters):
        seen.append(compiled.sql)
        return original(connection, compiled, parameters)

    lms.driver_statements._cursor = driver
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    for email in picked["emails"]:
        agent = app.test_client()
        _test_sign_in(agent, email, DEMO_PASSWORD)
        token = _csrf(agent.get(f"/quizzes/{QUIZ_SLUG}").get_data(as_text=True))
        location = agent.post(f"/quizzes/{QUIZ_SLUG}/start", data={"csrf_token": token}).headers.get("Location", "")
        match = re.search(r"/attempts/(\d+)/questions/", location)
        if match:
            picked["attempt_id"] = match.group(1)
            break
    else:
        raise BenchError("no picked agent could start the quiz")
    trainer = app.test_client()
    _test_sign_in(trainer, TRAINER, DEMO_PASSWORD)
    for page in PAGES:
        client = trainer if page.staff else agent
        path = page.path.format(**picked)
        for _ in range(3):  # warm: first-use caches, compiled statements
            client.get(path).get_data()
        del seen[:]
        response = client.get(path)
        response.get_data()
        if response.status_code != page.status:
            raise BenchError(f"{path}: HTTP {response.status_code}")
        statements = list(seen)
        profiler = Profiler(interval=0.0002)
        start = time.perf_counter()
        with profiler:
            for _ in range(requests):
                client.get(path).get_data()
        per_request = 1000 * (time.perf_counter() - start) / requests
        print(f"==== {page.name}: GET {path}: {len(statements)} statements, {per_request:.2f} ms per request "
              f"(test client, profiled)")
        for sql in statements:
            print("    " + " ".join(sql.split())[:160])
        print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))


def _picked(count: int) -> dict:
    """pick_agents' answer, in this process."""
    from io import StringIO
    from contextlib import redirect_stdout

    out = StringIO()
    with redirect_stdout(out):
        pick_agents(count)
    return json.loads(out.getvalue())


def _csrf(html: str) -> str:
    return Form(html).csrf_token


def _test_sign_in(client, email: str, password: str) -> None:
    """Sign in on a Flask test client through the form."""
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise BenchError(f"sign-in of {email}: HTTP {response.status_code}")


# ---- one database --------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """One page on one database: the LMS's slices and the bare app's beside them."""

    database: str
    page: Page
    app: Slices
    bare: Slices

    @property
    def ratio(self) -> float:
        return self.app.rps / self.bare.rps if self.bare.rps else math.nan

    def verdict(self) -> str:
        """Whether the page meets its targets: "meets", or what it misses ("reference" if it has none)."""
        missed = []
        if self.page.min_ratio is not None and not self.ratio >= self.page.min_ratio:
            missed.append(f"ratio < {self.page.min_ratio:g}")
        if self.page.max_p99_ms is not None and not self.app.worst(self.app.p99) < self.page.max_p99_ms:
            missed.append(f"p99 >= {self.page.max_p99_ms:.0f} ms")
        if self.page.max_p95_ms is not None and not self.app.worst(self.app.p95) < self.page.max_p95_ms:
            missed.append(f"p95 >= {self.page.max_p95_ms:.0f} ms")
        if self.app.errors:
            missed.append(f"{self.app.errors} errors")
        if missed:
            return "MISSES: " + ", ".join(missed)
        targets = (self.page.min_ratio, self.page.max_p99_ms, self.page.max_p95_ms)
        return "meets" if any(target is not None for target in targets) else "reference"


def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> list[Result]:
    """Prepare the database, serve the LMS and the baseline, sign the sessions in, time each page."""
    from devtools.demo import DEMO_PASSWORD

    started = time.monotonic()

    def step(message: str) -> None:
        print(f"[{label} {time.monotonic() - started:5.1f} s] {message}", flush=True)

    env = app_env(database_url)
    # Each web worker runs the periodic audit sealer (the "thread" runner). Without a signing key
    # it would read every unsealed event, fail to sign and start again every 10 s, inside the
    # workers being measured; with one, the demo's events are sealed here first, and the workers'
    # sealers find only the few new events of sign-ins, as in a running deployment.
    env.update(SIGNING_KEY_PATH=str(workdir / f"{label}-signing" / "key.pem"),
               SIGNING_CERT_PATH=str(workdir / f"{label}-signing" / "cert.pem"))
    step(f"migrating, loading content, a signing key, `lms demo --agents {settings.agents}`, sealing")
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "evidence", "dev-key"), env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "demo", "--agents", str(settings.agents)), env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "audit", "seal"), env, timeout=COMMAND_TIMEOUT)
    # Twice as many as needed: some will have a recent attempt, and the quiz a cooldown.
    picked = json.loads(run_command([sys.executable, "-c", f"from bench.pages import pick_agents; "
                                     f"pick_agents({2 * settings.sessions})"], env, timeout=COMMAND_TIMEOUT)[0])
    if settings.profile:
        step(f"statements and profiles of each page ({settings.profile} requests each, test client):")
        print(run_command([sys.executable, "-c", f"from bench.pages import profile_pages; "
                                                 f"profile_pages({settings.profile})"], env,
                          timeout=COMMAND_TIMEOUT)[0], flush=True)
    wrk = Wrk(workdir, settings.wrk_threads)
    results: list[Result] = []
    with ExitStack() as stack:
        app = stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                           ready_within=READY_WITHIN))
        bare = stack.enter_context(Gunicorn("bench.baseline_app:app", env, workdir / f"{label}-baseline.log", "/",
                                            workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                            ready_within=READY_WITHIN))
        try:
            step(f"signing {settings.sessions} agents in, each starting {QUIZ_SLUG}")
            with ThreadPoolExecutor(4) as pool:
                sessions = [s for s in pool.map(lambda email: agent_session(app.port, email, DEMO_PASSWORD),
                                                picked["emails"]) if s is not None][:settings.sessions]
            if len(sessions) < settings.sessions:
                raise BenchError(f"only {len(sessions)} of {len(picked['emails'])} agents could start the quiz")
            trainers = []
            for _ in range(settings.trainer_sessions):
                client = Client(app.port, HTTP_TIMEOUT)
                sign_in(client, TRAINER, DEMO_PASSWORD)
                client.get("/")  # the first page puts the CSRF secret into the cookie; later ones keep it
                trainers.append({"cookie": cookie_header(client)})
            for page in PAGES:
                if page.name not in settings.pages:
                    continue
                owners = trainers if page.staff else sessions
                lines = [(page.path.format(course=picked["course"], lesson=picked["lesson"], **s), s["cookie"])
                         for s in owners]
                connections = settings.dashboard_connections if page.staff else settings.connections
                step(f"{page.name}: {lines[0][0]} ({len(lines)} sessions, wrk -c{connections}) against the bare "
                     f"GET /, {settings.duration:.0f} s each in {SLICES} alternating slices")
                results.append(measure(wrk, app.port, bare.port, page, lines, connections, settings, label))
                if results[-1].app.errors:
                    step(f"{results[-1].app.errors} failed requests; end of the LMS log:\n{app.log_tail()}")
            if settings.floor:
                results.append(measure_floor(stack, env, wrk, bare.port, settings, label, workdir, step))
        except BenchError as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
    return results


def measure_floor(stack: ExitStack, env: dict[str, str], wrk: Wrk, bare_port: int, settings: Settings, label: str,
                  workdir: Path, step: Callable[[str], None]) -> Result:
    """Serve bench/stack_floor_app.py as the LMS is served, sign its people in, and time its 404."""
    cookies = json.loads(run_command([sys.executable, "-m", "bench.stack_floor_app", "--people", str(settings.sessions),
                                      "--user-agent", USER_AGENT], env, timeout=COMMAND_TIMEOUT)[0])["cookies"]
    floor = stack.enter_context(Gunicorn("bench.stack_floor_app:create_app()", env, workdir / f"{label}-floor.log", "/",
                                         workers=settings.workers, worker_timeout=WORKER_TIMEOUT,
                                         ready_within=READY_WITHIN))
    step(f"{FLOOR_PAGE.name}: {MISSING_PATH} of bench/stack_floor_app.py ({len(cookies)} sessions, "
         f"wrk -c{settings.connections}) against the bare GET /")
    result = measure(wrk, floor.port, bare_port, FLOOR_PAGE, [(MISSING_PATH, cookie) for cookie in cookies],
                     settings.connections, settings, label)
    if result.app.errors:
        step(f"{result.app.errors} failed requests; end of the floor app's log:\n{floor.log_tail()}")
    return result


def measure(wrk: Wrk, app_port: int, bare_port: int, page: Page, lines: list[tuple[str, str]], connections: int,
            settings: Settings, label: str) -> Result:
    """Warm both servers up, then alternate them in SLICES slices (the bare app first in each)."""
    def app_run(seconds: float) -> dict:
        return wrk.run(app_port, lines, page.status, page.marker, connections=connections, seconds=seconds,
                       name=f"{label}-app")

    def bare_run(seconds: float) -> dict:
        return wrk.run(bare_port, [("/", "")], 200, "ok", connections=connections, seconds=seconds,
                       name=f"{label}-bare")

    app_run(settings.warmup)
    bare_run(settings.warmup)
    app, bare = Slices(), Slices()
    for _ in range(SLICES):
        bare.add(bare_run(settings.duration / SLICES))
        app.add(app_run(settings.duration / SLICES))
    return Result(label, page, app, bare)


# ---- report ----------------------------------------------------------------------------------

COLUMNS = ("database", "page", "requests", "rps", "p50 ms", "p95 ms", "p99 ms", "bare rps", "bare p99 ms",
           "ratio", "target", "errors", "verdict")


def table(results: Sequence[Result]) -> str:
    """The results as an aligned text table."""
    lines: list[tuple[str, ...]] = [COLUMNS]
    for r in results:
        page = r.page
        target = ", ".join(filter(None, [
            f">= {page.min_ratio:g}" if page.min_ratio is not None else "",
            f"p99 < {page.max_p99_ms:.0f}" if page.max_p99_ms is not None else "",
            f"p95 < {page.max_p95_ms:.0f}" if page.max_p95_ms is not None else ""]))
        lines.append((
            r.database, page.name, str(r.app.requests), f"{r.app.rps:.0f}", f"{max(r.app.p50):.1f}",
            f"{r.app.worst(r.app.p95):.1f}", f"{r.app.worst(r.app.p99):.1f}", f"{r.bare.rps:.0f}",
            f"{r.bare.worst(r.bare.p99):.1f}", f"{r.ratio:.3f}", target, str(r.app.errors), r.verdict(),
        ))
    return format_table(lines)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=10000, help="agents in the demo company (default 10000)")
    parser.add_argument("--sessions", type=int, default=32, help="signed-in agents the requests rotate over "
                                                                 "(default 32)")
    parser.add_argument("--trainer-sessions", type=int, default=4, help="trainer sessions for the dashboard "
                                                                        "(default 4)")
    parser.add_argument("--duration", type=float, default=8.0, help="timed seconds per page, per server (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each (default 1; wrk rounds to whole seconds)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync worker processes (default 2)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c for the agents' pages (default 16)")
    parser.add_argument("--dashboard-connections", type=int, default=4,
                        help="wrk -c for the dashboard (default 4, as bench/dashboard.py)")
    parser.add_argument("--database", choices=DATABASES, action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--page", choices=[page.name for page in PAGES], action="append", dest="pages",
                        help="only this page (repeatable; default all)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the signed-in 404 of bench/stack_floor_app.py, the mandated stack's least")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="first count each page's statements and profile N requests of it with pyinstrument")
    args = parser.parse_args(argv)
    return Settings(agents=args.agents, sessions=args.sessions, trainer_sessions=args.trainer_sessions,
                    duration=args.duration, warmup=args.warmup, workers=args.workers, wrk_threads=args.wrk_threads,
                    connections=args.connections, dashboard_connections=args.dashboard_connections,
                    databases=tuple(args.databases or DATABASES),
                    pages=tuple(args.pages or [page.name for page in PAGES]), profile=args.profile,
                    floor=args.floor)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every request succeeded, 1 if some failed, 2 if the set-up failed.

    A missed target is printed ("MISSES"), not an error.
    """
    settings = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench/pages.py needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"gunicorn: {settings.workers} sync workers; wrk -t{settings.wrk_threads} -c{settings.connections} "
          f"over {settings.sessions} agent sessions; {settings.agents} agents; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    started = time.monotonic()
    results = on_each_database(settings.databases, "callsafe-pages-", "callsafe_pages_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if results is None:
        return 2
    rows = [result for database_results in results.values() for result in database_results]
    print()
    print(table(rows))
    print()
    for row in rows:
        if row.app.errors or row.bare.errors:
            print(f"{row.database} {row.page.name}: {row.app.errors} failed (first: {row.app.first_error}); "
                  f"bare {row.bare.errors} failed (first: {row.bare.first_error})")
    print(f"(p95 and p99 are the worst of the {SLICES} slices; whole run: {time.monotonic() - started:.0f} s; "
          f"load average now {os.getloadavg()[0]:.1f})")
    return 1 if any(row.app.errors or row.bare.errors for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
