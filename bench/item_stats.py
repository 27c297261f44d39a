"""Benchmark of the trainer's item statistics (issue #18) at up to 100,000 attempts.

For SQLite and PostgreSQL in turn, it prepares a fresh database the way an
operator would (`flask db upgrade`, `lms content load`, `lms demo --agents 200`:
ten organisations), then in a child process bulk-inserts finished attempts of
one quiz (default `recording-calls`: a call simulation and nine questions per
attempt) in steps up to N, and at each step measures, 3 times each in
alternation (the median is reported):

- analyse: `lms.assessment.analysis.analyse()` as the demo trainer, every
  statement it sends counted;
- page: `GET /analysis/quizzes/<quiz>` through Flask's test client, signed in as
  the demo trainer through the real form, statements counted;
- baseline: a plain read of the answer rows into Python (answer, attempt, user
  and organisation joined, the columns the analysis aggregates): what the
  previous implementation read before doing its own work in Python. The
  analysis reads more, every attempt's draw too, so that items left unanswered
  count.

The attempts are realistic, not copies: each is a real draw (`draw_items`),
answered by a simulated agent whose ability sets the chance of a right answer
to each item (wrong answers pick a wrong option, a wrong order or a weaker
reply; 3% of items are left unanswered), graded by the LMS's own grader
(`grade_responses`). 2,000 such attempts
are generated and then reused by random agents at random times, inserted in
batches (executemany on SQLite, COPY on PostgreSQL), not through the ORM.

Run from anywhere: `python bench/item_stats.py [--database sqlite|postgresql]
[--steps 1000,10000,100000]` (see bench/README.md). The temporary files and
database are removed at the end, on error too.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, app_env, flask, format_table, migrate_and_load_content, on_each_database, run_command,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

TRAINER = "trainer@northwind.example"
DEMO_AGENTS = 200
TEMPLATES = 2_000  # distinct synthetic attempts, reused by random agents at random times
INSERT_BATCH = 10_000  # attempts per batch (and their answers)
REPEATS = 3
COMMAND_TIMEOUT = 1800.0
DIFFICULTY = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
UNANSWERED = 0.03  # the share of drawn items a synthetic agent leaves without an answer


@dataclass(frozen=True)
class Settings:
    """What one run does; every field is a command-line option."""

    steps: tuple[int, ...]
    quiz: str
    databases: tuple[str, ...]


# ---- synthetic attempts (in the child process) ----------------------------------------------

def _right(rng: random.Random, ability: float, item: dict) -> bool:
    """Whether a simulated agent of this ability gets the item right (a two-parameter logistic model)."""
    return rng.random() < 1 / (1 + math.exp(-1.7 * (ability - DIFFICULTY.get(item.get("difficulty"), 0.0))))


def synthetic_response(rng: random.Random, ability: float, item: dict) -> object:
    """A response of the item's type: the key, or a wrong answer of the right shape."""
    kind = item["type"]
    if kind == "call_simulation":
        nodes = {node["id"]: node for node in item["nodes"]}
        node, path = nodes[item["start"]], []
        while node.get("choices"):
            ordered = sorted(node["choices"], key=lambda c: -c["score"])
            choice = ordered[0] if _right(rng, ability, item) or len(ordered) == 1 else rng.choice(ordered[1:])
            path.append(choice["id"])
            node = nodes[choice["next"]]
        return path
    right = _right(rng, ability, item)
    if kind == "true_false":
        return item["correct"] if right else not item["correct"]
    options = [o["id"] for o in item["options"]]
    if kind == "single_choice":
        return item["correct"] if right else rng.choice([o for o in options if o != item["correct"]])
    if kind == "ordering":
        if right:
            return list(item["correct"])
        wrong = list(item["correct"])
        while wrong == list(item["correct"]):
            rng.shuffle(wrong)
        return wrong
    key = sorted(item["correct"])  # multiple_response
    if right:
        return key
    while True:
        chosen = sorted(o for o in options if rng.random() < 0.5)
        if chosen and chosen != key:
            return chosen


def synthetic_attempts(spec: dict, rng: random.Random) -> list[tuple[list, dict, Any]]:
    """TEMPLATES attempts: (draw, responses by position, their AttemptGrade)."""
    from lms.assessment.services import draw_items, grade_responses, items_by_id

    items = items_by_id(spec)
    made = []
    for _ in range(TEMPLATES):
        draw = draw_items(spec, rng)
        ability = rng.gauss(0.3, 1.0)
        # Some items are left unanswered (skipped, or the time ran out): no saved answer, graded 0.
        responses = {position: synthetic_response(rng, ability, items[entry["item"]])
                     for position, entry in enumerate(draw, start=1) if rng.random() >= UNANSWERED}
        made.append((draw, responses, grade_responses(spec, items, draw, responses)))
    return made


def _naive_utc(value: object) -> object:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(value, datetime) else value


def copy_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """COPY `rows` into `table` (PostgreSQL), converted as the column types would bind them."""
    from sqlalchemy import JSON

    columns = list(rows[0])
    as_json = {name for name in columns if isinstance(table.c[name].type, JSON)}
    names = ", ".join(f'"{name}"' for name in columns)
    with connection.connection.dbapi_connection.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(value) if name in as_json else getattr(value, "value", _naive_utc(value))
                            for name, value in row.items()])


def insert_attempts(quiz: Any, count: int, templates: list, agent_ids: Sequence[int], rng: random.Random) -> None:
    """Insert `count` finished attempts (and their answers) after the existing ones, in batches."""
    from sqlalchemy import func, insert, select, text

    from lms.assessment.models import Answer, Attempt, AttemptStatus
    from lms.extensions import db

    session = db.session
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    next_attempt = (session.scalar(select(func.max(Attempt.id))) or 0) + 1
    next_answer = (session.scalar(select(func.max(Answer.id))) or 0) + 1
    version_id = quiz.current_version_id
    first_day = datetime(2025, 6, 1, 8, tzinfo=timezone.utc)
    for offset in range(0, count, INSERT_BATCH):
        attempts, answers = [], []
        for _ in range(min(INSERT_BATCH, count - offset)):
            draw, responses, grade = rng.choice(templates)
            started = first_day + timedelta(minutes=rng.randrange(0, 540 * 24 * 60))
            attempts.append({
                "id": next_attempt, "user_id": rng.choice(agent_ids), "quiz_id": quiz.id,
                "quiz_version_id": version_id, "status": AttemptStatus.SUBMITTED, "started_at": started,
                "deadline": None, "finished_at": started + timedelta(minutes=12), "draw": draw,
                "earned": grade.earned, "possible": grade.possible, "percent": grade.percent, "passed": grade.passed,
                "phase_scores": grade.phases, "graded_version_id": version_id, "regraded_at": None})
            for position, entry in enumerate(draw, start=1):
                if position not in responses:
                    continue
                item_grade = grade.items[position]
                answers.append({"id": next_answer, "attempt_id": next_attempt, "position": position,
                                "item_id": entry["item"], "response": responses[position],
                                "saved_at": started + timedelta(minutes=position), "earned": item_grade.earned,
                                "possible": item_grade.possible})
                next_answer += 1
            next_attempt += 1
        for table, rows in ((Attempt.__table__, attempts), (Answer.__table__, answers)):
            if postgresql:
                copy_rows(connection, table, rows)
            else:
                connection.execute(insert(table), rows)
    if postgresql:  # the rows were given their ids: move the sequences past them
        for table in ("attempt", "answer"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    session.commit()
    if postgresql:  # what autovacuum would do soon after such a load; without statistics the planner guesses
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE attempt; ANALYZE answer"))


# ---- measures (in the child process) ----------------------------------------------------------

def read_rows(quiz_id: int) -> int:
    """The baseline: the answer rows of the quiz's finished attempts, joined as the analysis joins them,
    read into Python without aggregating. Returns the rows read."""
    from sqlalchemy import select

    from lms.accounts.models import Organisation, User
    from lms.assessment.models import Answer, Attempt, AttemptStatus
    from lms.extensions import db

    query = (select(Answer.item_id, Organisation.id, Answer.response, Answer.earned, Answer.possible,
                    Attempt.earned, Attempt.possible)
             .select_from(Answer).join(Attempt, Attempt.id == Answer.attempt_id)
             .join(User, User.id == Attempt.user_id).join(Organisation, Organisation.id == User.organisation_id)
             .where(Attempt.quiz_id == quiz_id, Attempt.status != AttemptStatus.IN_PROGRESS,
                    User.restricted_at.is_(None)))
    count = 0
    try:
        for _ in db.session.connection().execute(query):
            count += 1
    finally:
        db.session.rollback()
    return count


class Counter:
    """Statements sent on the app's engine by this thread while active (the app's background
    threads, such as the audit sealer, share the engine but are not what is measured)."""

    def __init__(self) -> None:
        from sqlalchemy import event

        from lms.extensions import db

        self.statements = 0
        self.active = False
        self.thread = threading.get_ident()
        event.listen(db.engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        if self.active and threading.get_ident() == self.thread:
            self.statements += 1

    def run(self, function: Callable[[], object]) -> tuple[float, int]:
        """Seconds and statements of one call."""
        self.statements, self.active = 0, True
        started = time.perf_counter()
        try:
            function()
        finally:
            self.active = False
        return time.perf_counter() - started, self.statements


def measure() -> None:
    """Insert attempts up to each of BENCH_STEPS and time the analysis, the page and the baseline; print JSON.

    Runs in a child process whose environment points the app at the bench database.
    """
    from sqlalchemy import func, select

    from lms import create_app
    from lms.accounts.models import Role, User
    from lms.assessment.analysis import analyse, response_groups
    from lms.assessment.models import Answer, Attempt
    from devtools.demo import DEMO_PASSWORD
    from lms.extensions import db
    from lms.learning.models import Quiz

    steps = [int(step) for step in os.environ["BENCH_STEPS"].split(",")]
    slug = os.environ["BENCH_QUIZ"]
    app = create_app()
    base_url = app.config["BASE_URL"]
    results = []
    with app.app_context():
        rng = random.Random(18)
        quiz = db.session.scalar(select(Quiz).where(Quiz.slug == slug))
        quiz_id = quiz.id
        agent_ids = list(db.session.scalars(select(User.id).where(User.role == Role.AGENT)))
        trainer_id = db.session.scalar(select(User.id).where(User.email == TRAINER))
        started = time.perf_counter()
        templates = synthetic_attempts(quiz.current_version.spec, rng)
        generate_seconds = time.perf_counter() - started
        client = app.test_client()
        login = client.get("/login", base_url=base_url).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        signed_in = client.post("/login", base_url=base_url,
                                data={"email": TRAINER, "password": DEMO_PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302, "the demo trainer could not sign in"
        counter = Counter()
        page_path = f"/analysis/quizzes/{slug}"

        def page() -> None:
            response = client.get(page_path, base_url=base_url)
            assert response.status_code == 200 and b"Call simulation decisions" in response.data, response.status

        def analysis() -> None:
            db.session.expire_all()  # as in a request: nothing cached from the run before
            analyse(db.session.get(User, trainer_id), db.session.get(Quiz, quiz_id))
            db.session.rollback()

        page()  # once unmeasured: templates compiled, caches filled
        inserted = db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.quiz_id == quiz_id))
        demo_attempts = inserted
        for step in steps:
            started = time.perf_counter()
            insert_attempts(db.session.get(Quiz, quiz_id), step - (inserted - demo_attempts), templates, agent_ids,
                            rng)
            insert_seconds = time.perf_counter() - started
            inserted = db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.quiz_id == quiz_id))
            answers = db.session.scalar(select(func.count()).select_from(Answer).join(Attempt)
                                        .where(Attempt.quiz_id == quiz_id))
            db.session.rollback()
            runs: dict[str, list[tuple[float, int]]] = {"baseline": [], "analyse": [], "page": []}
            read: list[int] = []
            for _ in range(REPEATS):
                runs["baseline"].append(counter.run(lambda: read.append(read_rows(quiz_id))))
                runs["analyse"].append(counter.run(analysis))
                runs["page"].append(counter.run(page))
            groups = len(response_groups(db.session.get(User, trainer_id), db.session.get(Quiz, quiz_id)))
            db.session.rollback()
            results.append({
                "bench_attempts": step, "groups": groups, "attempts": inserted, "answers": answers, "rows_read": read[-1],
                "insert_seconds": insert_seconds,
                **{f"{name}_seconds": statistics.median(s for s, _ in values) for name, values in runs.items()},
                **{f"{name}_statements": sorted({n for _, n in values}) for name, values in runs.items()},
            })
    print(json.dumps({"generate_seconds": generate_seconds, "steps": results}))


# ---- per database -------------------------------------------------------------------------------

def bench_database(label: str, database_url: str, settings: Settings, workdir: Path) -> dict:
    """Prepare the database, then measure in a child process; its figures."""
    started = time.monotonic()

    def step(message: str) -> None:
        print(f"[{label} {time.monotonic() - started:6.1f} s] {message}", flush=True)

    env = app_env(database_url)
    step(f"migrating, loading content, demo data with {DEMO_AGENTS} agents")
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "demo", "--agents", str(DEMO_AGENTS)), env, timeout=COMMAND_TIMEOUT)
    step(f"child process: attempts of {settings.quiz} up to {settings.steps[-1]:,}, measuring at "
         + ", ".join(f"{s:,}" for s in settings.steps))
    # The MFA settings are read again every 30 s by default: with page runs 10 s apart at 100,000
    # attempts that added a statement to every run, which would look like growth with attempts.
    output, _ = run_command([sys.executable, "-c", "from bench.item_stats import measure; measure()"],
                            {**env, "BENCH_STEPS": ",".join(map(str, settings.steps)), "BENCH_QUIZ": settings.quiz,
                             "MFA_SETTINGS_CACHE_SECONDS": "86400"},
                            timeout=COMMAND_TIMEOUT)
    figures = json.loads(output.strip().splitlines()[-1])
    step("done")
    return figures


# ---- report -----------------------------------------------------------------------------------

def table(results: dict[str, dict]) -> str:
    """The measures at each step, against the baseline."""
    lines: list[tuple[str, ...]] = [(
        "database", "attempts", "answers", "answer groups", "analyse s", "statements", "page s", "page statements",
        "baseline s", "analyse / baseline", "page / baseline")]
    for label, figures in results.items():
        for row in figures["steps"]:
            base = row["baseline_seconds"]
            lines.append((
                label, f"{row['attempts']:,}", f"{row['answers']:,}", f"{row['groups']:,}",
                f"{row['analyse_seconds']:.3f}",
                "/".join(map(str, row["analyse_statements"])), f"{row['page_seconds']:.3f}",
                "/".join(map(str, row["page_statements"])), f"{base:.3f}",
                f"{row['analyse_seconds'] / base:.2f}", f"{row['page_seconds'] / base:.2f}"))
    return format_table(lines)


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both",
                        help="which database to run on (default both)")
    parser.add_argument("--steps", default="1000,10000,100000",
                        help="bench attempts to measure at, comma-separated, increasing (default 1000,10000,100000)")
    parser.add_argument("--quiz", default="recording-calls", help="the quiz whose attempts are generated")
    args = parser.parse_args(argv)
    try:
        steps = tuple(int(s) for s in args.steps.split(","))
    except ValueError:
        parser.error("--steps takes whole numbers separated by commas")
    if not steps or list(steps) != sorted(set(steps)) or steps[0] < 1:
        parser.error("--steps must be increasing and at least 1")
    return Settings(steps=steps, quiz=args.quiz,
                    databases=DATABASES if args.database == "both" else (args.database,))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 if the statement counts stayed the same at every step, 1 if not, 2 if the set-up failed.
    The times are results, not pass or fail."""
    settings = parse_args(argv)
    started = time.monotonic()
    results = on_each_database(settings.databases, "callsafe-bench-items-", "callsafe_bench_items_",
                               lambda label, url, workdir: bench_database(label, url, settings, workdir))
    if results is None:
        return 2
    print()
    print(table(results))
    print(f"(median of {REPEATS} runs each, alternating; answer groups: the rows the answers query returns; statements: every statement sent, the distinct counts "
          "of the runs; baseline: a plain read of the answer rows into Python, what the previous "
          "implementation read; the attempts include the demo's)")
    print("(a page run may send one statement more: the sign-in session's idle expiry slides forward once a "
          "minute; the steps are compared by their fewest statements)")
    constant = True
    for label, figures in results.items():
        # The fewest statements of a step's runs: what the page itself sends, without the session's touch.
        counts = {(row["analyse_statements"][0], row["page_statements"][0]) for row in figures["steps"]}
        constant &= len(counts) == 1
        inserts = ", ".join(f"{row['insert_seconds']:.0f} s" for row in figures["steps"])
        print(f"{label}: {TEMPLATES:,} synthetic attempts generated in {figures['generate_seconds']:.1f} s; "
              f"inserted per step in {inserts}; statement counts "
              + ("the same at every step" if len(counts) == 1 else "CHANGED between steps"))
    print(f"(whole run: {time.monotonic() - started:.0f} s on {os.cpu_count()} cores)")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
