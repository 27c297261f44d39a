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
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

if not __package__:  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, BenchError, Client, Form, Gunicorn, Response, Row, Stats, app_env, exit_status, format_table,
    measure_interleaved, migrate_and_load_content, on_each_database, ratio_cell, read_form, run_command,
    sign_in, timed,
)

QUIZ_SLUG = "gdpr-essentials"
AGENT_EMAIL = "bench-agent-{n:03d}@bench.example"
HTTP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
ANSWERED_BEFORE_SUBMIT = 3  # questions each agent answers before its attempt is submitted
SUBMIT_WARMUP = 4  # attempts submitted, unmeasured, to warm the workers up
INTERLEAVED_SLICES = 4  # the save measure alternates app and baseline this many times


# ---- settings ----------------------------------------------------------------------------

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
    floor: bool = False  # --floor: also bench/stack_floor_app.py's submit


# ---- pages -------------------------------------------------------------------------------

class PageForm(Form):
    """The CSRF token and the answer controls found on a page."""

    def __init__(self, html: str) -> None:
        self.options: list[str] = []  # radio or checkbox values named "option"
        self.positions: list[str] = []  # the selects of an ordering question
        super().__init__(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect the first CSRF token and the answer controls."""
        super().handle_starttag(tag, attrs)
        attributes = dict(attrs)
        name = attributes.get("name") or ""
        if tag == "input" and name == "option":
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
        fields = {"csrf_token": self.csrf_token, **self.first_answers[n % len(self.first_answers)]}
        response = self.client.post(f"/attempts/{self.attempt_id}/answers/1", fields, want_json=True)
        expect_json(response, "saved", "save answer")

    def submit(self) -> None:
        """Submit the attempt for grading (JSON)."""
        response = self.client.post(f"/attempts/{self.attempt_id}/submit", {"csrf_token": self.csrf_token},
                                    want_json=True)
        expect_json(response, "submitted", "submit")


def sign_in_and_start(port: int, email: str, password: str) -> Agent:
    """Sign in, start the quiz, and save answers to the first questions (as the JS autosave does)."""
    client = Client(port, HTTP_TIMEOUT)
    sign_in(client, email, password)
    quiz = read_form(client.get(f"/quizzes/{QUIZ_SLUG}"), "quiz page", PageForm)
    response = client.post(f"/quizzes/{QUIZ_SLUG}/start", {"csrf_token": quiz.csrf_token})
    match = re.fullmatch(r"/attempts/(\d+)/questions/\d+", urlsplit(response.location).path)
    if response.status != 302 or match is None:
        raise BenchError(f"start of {QUIZ_SLUG}: HTTP {response.status} to {response.location!r}")
    attempt_id = int(match.group(1))
    first_answers: list[dict[str, str]] = []
    csrf_token = quiz.csrf_token
    for position in range(1, ANSWERED_BEFORE_SUBMIT + 1):
        page = read_form(client.get(f"/attempts/{attempt_id}/questions/{position}"), f"question {position}",
                         PageForm)
        csrf_token = page.csrf_token
        answers = page.answers()
        first_answers = first_answers or answers
        fields = {"csrf_token": csrf_token, **answers[0]}
        response = client.post(f"/attempts/{attempt_id}/answers/{position}", fields, want_json=True)
        expect_json(response, "saved", f"saving question {position}")
    return Agent(client, attempt_id, csrf_token, first_answers)


# ---- load generation -------------------------------------------------------------------

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
    fields = {"csrf_token": "x" * 90, "option": "refuse-ask-fallback"}

    def post(_: int) -> None:
        expect_json(Client(port, HTTP_TIMEOUT).post("/answer", fields, want_json=True), "saved", "baseline")

    return post


# ---- database -----------------------------------------------------------------------------

def prepare_database(env: dict[str, str], agents: int, password: str) -> None:
    """Migrate, load the content and create the bench agents, as an operator would."""
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    script = f"from bench.assessment import create_agents; create_agents({agents})"
    run_command([sys.executable, "-c", script], {**env, "BENCH_AGENT_PASSWORD": password}, timeout=COMMAND_TIMEOUT)


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
        app = stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, threads=settings.threads))
        baseline = stack.enter_context(Gunicorn("bench.baseline_app:app", env, workdir / f"{label}-baseline.log", "/",
                                                workers=settings.workers, threads=settings.threads))
        try:
            step("signing agents in and starting their attempts")
            with ThreadPoolExecutor(settings.concurrency) as pool:
                agents = list(pool.map(lambda n: sign_in_and_start(app.port, AGENT_EMAIL.format(n=n), password),
                                       range(settings.agents)))

            step(f"saving answers ({settings.concurrency} agents) and the baseline POST "
                 f"({settings.concurrency} clients), {settings.duration:.0f} s each, interleaved")
            save, bare = measure_interleaved([agent.save_first_answer for agent in agents[:settings.concurrency]],
                                             [baseline_post(baseline.port)] * settings.concurrency,
                                             duration=settings.duration, warmup=settings.warmup,
                                             slices=INTERLEAVED_SLICES)

            step(f"submitting {len(agents) - SUBMIT_WARMUP} attempts, {settings.concurrency} at a time")
            run_each([agent.submit for agent in agents[:SUBMIT_WARMUP]], settings.concurrency)
            submit = run_each([agent.submit for agent in agents[SUBMIT_WARMUP:]], settings.concurrency)
        except (BenchError, OSError) as exc:
            raise BenchError(f"[{label}] {exc}\n--- end of the LMS log ---\n{app.log_tail()}") from exc
        if save.errors or submit.errors:
            print(f"[{label}] some requests failed; end of the LMS log:\n{app.log_tail()}", flush=True)
        rows = [Row(label, "save answer", save, bare), Row(label, "submit attempt", submit, bare)]
        if settings.floor:
            step(f"{FLOOR_MEASURE} of bench/stack_floor_app.py: {settings.agents - SUBMIT_WARMUP} attempts, "
                 f"{settings.concurrency} at a time")
            rows.append(Row(label, FLOOR_MEASURE, measure_floor_submit(stack, env, settings, label, workdir), bare))
    return rows


FLOOR_MEASURE = "stack floor: submit"


def measure_floor_submit(stack: ExitStack, env: dict[str, str], settings: Settings, label: str,
                         workdir: Path) -> Stats:
    """Serve bench/stack_floor_app.py as the LMS is served, and submit one attempt per person as the
    LMS's are submitted (the same warm-up, the same concurrency)."""
    found = json.loads(run_command([sys.executable, "-m", "bench.stack_floor_app", "--people", str(settings.agents),
                                    "--user-agent", "callsafe-bench", "--attempts"], env,
                                   timeout=COMMAND_TIMEOUT)[0])
    floor = stack.enter_context(Gunicorn("bench.stack_floor_app:create_app()", env, workdir / f"{label}-floor.log",
                                         "/", workers=settings.workers, threads=settings.threads))

    def submitter(cookie: str, csrf_token: str, attempt_id: int) -> Callable[[], None]:
        client = Client(floor.port, HTTP_TIMEOUT)
        name, _, value = cookie.partition("=")
        client.cookies[name] = value

        def submit() -> None:
            response = client.post(f"/attempts/{attempt_id}/submit", {"csrf_token": csrf_token}, want_json=True)
            expect_json(response, "submitted", "floor submit")
        return submit

    actions = [submitter(*person) for person in zip(found["cookies"], found["csrf_tokens"], found["attempt_ids"])]
    run_each(actions[:SUBMIT_WARMUP], settings.concurrency)
    return run_each(actions[SUBMIT_WARMUP:], settings.concurrency)


# ---- report -----------------------------------------------------------------------------

COLUMNS = ("database", "measure", "app rps", "app p50 ms", "app p95 ms", "baseline rps", "baseline p50 ms",
           "baseline p95 ms", "throughput ratio", "p95 ratio", "requests", "errors")


def table(rows: Sequence[Row]) -> str:
    """The results as an aligned text table."""
    lines: list[tuple[str, ...]] = [COLUMNS]
    for row in rows:
        app, bare = row.app, row.baseline
        lines.append((
            row.database, row.measure,
            f"{app.rps:.1f}", f"{app.percentile_ms(50):.1f}", f"{app.percentile_ms(95):.1f}",
            f"{bare.rps:.1f}", f"{bare.percentile_ms(50):.1f}", f"{bare.percentile_ms(95):.1f}",
            ratio_cell(row.rps_ratio, ".2f"), ratio_cell(row.p95_ratio, ".1f"),
            str(app.ok + app.errors), str(app.errors),
        ))
    return format_table(lines)


def verdicts(rows: Sequence[Row]) -> list[str]:
    """The target (saving an answer reaches 1/3 of the bare endpoint's throughput), load and failures."""
    notes = []
    for row in rows:
        if row.measure == "save answer":
            ratio = row.rps_ratio or 0.0
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
    parser.add_argument("--database", choices=DATABASES, action="append", dest="databases",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the submit of bench/stack_floor_app.py, the mandated stack's least")
    args = parser.parse_args(argv)
    if args.agents < max(args.concurrency, SUBMIT_WARMUP + 1):
        parser.error(f"--agents must be at least --concurrency and more than {SUBMIT_WARMUP}")
    return Settings(agents=args.agents, concurrency=args.concurrency, duration=args.duration, warmup=args.warmup,
                    workers=args.workers, threads=args.threads,
                    databases=tuple(args.databases or DATABASES), floor=args.floor)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if every request succeeded, 1 if some failed, 2 if the set-up failed."""
    settings = parse_args(argv)
    print(f"gunicorn: {settings.workers} workers x {settings.threads} thread(s); "
          f"{settings.concurrency} concurrent clients; {settings.agents} agents per database", flush=True)
    started = time.monotonic()
    results = on_each_database(settings.databases, "callsafe-bench-", "callsafe_bench_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if results is None:
        return 2
    rows = [row for database_rows in results.values() for row in database_rows]
    print()
    print(table(rows))
    print()
    for note in verdicts(rows):
        print(note)
    print(f"(whole run: {time.monotonic() - started:.0f} s)")
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(main())
