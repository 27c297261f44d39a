"""The load and fault suite (#17): does anything get lost when many people work at once, or a
web worker dies mid-request? Each scenario prints PASS or FAIL against its criteria.

- L1, many agents at once: agents sign in, start the quiz, autosave random answers every 1-3 s,
  submit, and try to start again (the quiz's cooldown usually says no; they then read their home
  page); trainers load the dashboard; an auditor exports. The client keeps a ledger of every answer
  the server acknowledged. Afterwards the database must hold the last acknowledged answer for
  every question of every attempt, every acknowledged submit graded exactly once, no 5xx, and an
  audit log that seals and verifies.
- L2, a web worker killed mid-submit: submits of answered attempts are in flight when one gunicorn
  worker is killed with SIGKILL. Afterwards every attempt is either fully submitted (graded) or
  still in progress with every acknowledged answer intact, and every acknowledged submit is graded.

    python bench/load.py                  # L1 (200 agents, 5 min, 4 workers) and L2, on PostgreSQL
    python bench/load.py --short          # 30 s of L1 with 24 agents, and L2: what the test suite runs
    python bench/load.py --database sqlite --agents 50 --duration 60

Exit status 1 if a scenario fails. `make load` runs the full suite.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (BenchError, Client, Form, Gunicorn, Response, app_env, flask, free_port,  # noqa: E402
                           migrate_and_load_content, on_each_database, postgres_database, read_form, run_command,
                           sign_in)

QUIZ_SLUG = "gdpr-essentials"  # no call simulation: every question is answered with form controls
AGENT_EMAIL = "load-agent-{n:04d}@load.example"
TRAINER_EMAIL = "load-trainer-{n}@load.example"
AUDITOR_EMAIL = "load-auditor@load.example"
COMMAND_TIMEOUT = 300.0
HTTP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    agents: int
    duration: float
    workers: int
    think: tuple[float, float]  # seconds between one agent's autosaves
    submit_agents: int  # L2
    databases: tuple[str, ...]
    parts: tuple[str, ...]  # "L1L2" (on each database), "L3", "L4"


# ---- the people and the database ---------------------------------------------------------------

def create_people(agents: int, trainers: int) -> None:
    """Agents, trainers and an auditor with the password in LOAD_PASSWORD (run in a subprocess
    whose environment points the app at the load database)."""
    from lms import create_app
    from lms.accounts.models import OrganisationKind, Role
    from lms.accounts.services import OrganisationData, UserData, create_user, save_organisation, set_password
    from lms.extensions import db

    password = os.environ["LOAD_PASSWORD"]
    with create_app().app_context():
        org = save_organisation(None, OrganisationData(name="Load Contact Centre", kind=OrganisationKind.CLIENT,
                                                       country="IE"))
        people = [(AGENT_EMAIL.format(n=n), f"Load Agent {n}", Role.AGENT) for n in range(agents)]
        people += [(TRAINER_EMAIL.format(n=n), f"Load Trainer {n}", Role.TRAINER) for n in range(trainers)]
        people.append((AUDITOR_EMAIL, "Load Auditor", Role.AUDITOR))
        for email, name, role in people:
            user = create_user(None, UserData(email=email, name=name, role=role, organisation_id=org.id))
            set_password(None, user, password)
        db.session.commit()


def prepare(env: dict[str, str], agents: int, password: str) -> None:
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "evidence", "dev-key"), env, timeout=COMMAND_TIMEOUT)
    script = f"from bench.load import create_people; create_people({agents}, 2)"
    run_command([sys.executable, "-c", script], {**env, "LOAD_PASSWORD": password}, timeout=COMMAND_TIMEOUT)


# ---- what the client saw -------------------------------------------------------------------------

@dataclass
class Ledger:
    """Every acknowledgement the server gave, and every reply that was not one."""

    answers: dict[str, Any] = field(default_factory=dict)  # "attempt:position" -> the stored form expected
    submitted: set[int] = field(default_factory=set)  # attempts whose submit was acknowledged
    started: set[int] = field(default_factory=set)
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)  # 5xx replies but a proper 503
    unavailable: int = 0  # 503 "try again in a moment" replies (expected only while L3 restarts the database)
    after_restart: int = 0  # acknowledged saves after the database came back (L3)
    lost_connections: int = 0  # requests whose reply never came (L2 kills a worker on purpose)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, response: Response, what: str) -> None:
        """Count a reply; a 503 counts as unavailable only if it is the page people should get."""
        with self.lock:
            self.requests += 1
            proper_503 = (response.status == 503 and response.headers.get("X-Content-Type-Options") == "nosniff"
                          and "Content-Security-Policy" in response.headers
                          and ("Try again in a moment" in response.text() or "busy for a moment" in response.text()))
            if proper_503:
                self.unavailable += 1
            elif response.status >= 500:
                self.server_errors.append(f"{what}: HTTP {response.status} {response.text()[:120]!r}")

    def to_json(self) -> dict[str, Any]:
        return {"answers": self.answers, "submitted": sorted(self.submitted), "started": sorted(self.started)}


class QuestionForm(Form):
    """A question page's controls: radios or checkboxes named "option", or ordering selects."""

    def __init__(self, html: str) -> None:
        self.options: list[str] = []
        self.kind = ""  # "radio", "checkbox" or "ordering"
        self.positions: list[str] = []
        self.simulation = 'name="action" value="say"' in html
        super().__init__(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        attributes = dict(attrs)
        name = attributes.get("name") or ""
        if tag == "input" and name == "option":
            self.options.append(attributes.get("value") or "")
            self.kind = attributes.get("type") or ""
        elif tag == "select" and name.startswith("position-"):
            self.positions.append(name.removeprefix("position-"))
            self.kind = "ordering"

    def random_answer(self, rng: random.Random) -> tuple[dict[str, str] | list[tuple[str, str]], Any] | None:
        """Form fields for a random answer, and the response the server should store for it."""
        if self.simulation:
            return None
        if self.kind == "radio":
            choice = rng.choice(self.options)
            stored: Any = (choice == "true") if set(self.options) == {"true", "false"} else choice
            return {"option": choice}, stored
        if self.kind == "checkbox":
            chosen = rng.sample(self.options, rng.randint(1, len(self.options)))
            return [("option", c) for c in chosen], sorted(set(chosen))
        if self.kind == "ordering":
            order = rng.sample(self.positions, len(self.positions))
            return {f"position-{oid}": str(order.index(oid) + 1) for oid in self.positions}, order
        return None


def _json_ok(response, key: str) -> bool:
    try:
        return response.status == 200 and response.json().get(key) is True
    except ValueError:
        return False


# ---- L1 ------------------------------------------------------------------------------------------------

def agent_session(port: int, email: str, password: str, deadline: float, think: tuple[float, float],
                  ledger: Ledger, rng: random.Random) -> None:
    """One agent until the deadline: attempts as often as the quiz allows, random autosaves, submits."""
    client = Client(port, HTTP_TIMEOUT)
    sign_in(client, email, password)
    while time.monotonic() < deadline:
        quiz = client.get(f"/quizzes/{QUIZ_SLUG}")
        ledger.note(quiz, "quiz page")
        token = Form(quiz.text()).csrf_token
        response = client.post(f"/quizzes/{QUIZ_SLUG}/start", {"csrf_token": token})
        ledger.note(response, "start")
        match = re.fullmatch(r"/attempts/(\d+)/questions/\d+", urlsplit(response.location).path)
        if match is None:  # not allowed now (cooldown, attempts used): read the home page a while
            ledger.note(client.get("/"), "home")
            _sleep_until(deadline, rng.uniform(3, 6))
            continue
        attempt_id = int(match.group(1))
        with ledger.lock:
            ledger.started.add(attempt_id)
        position = 1
        while time.monotonic() < deadline:
            page = client.get(f"/attempts/{attempt_id}/questions/{position}")
            ledger.note(page, "question page")
            if page.status != 200:
                break  # past the last question
            form = QuestionForm(page.text())
            for _ in range(rng.randint(1, 3)):
                answer = form.random_answer(rng)
                if answer is None or time.monotonic() >= deadline:
                    break
                fields, stored = answer
                time.sleep(rng.uniform(*think))
                saved = client.post(f"/attempts/{attempt_id}/answers/{position}",
                                    {"csrf_token": form.csrf_token, **dict(fields)} if isinstance(fields, dict)
                                    else _multi(form.csrf_token, fields), want_json=True)
                ledger.note(saved, "autosave")
                if _json_ok(saved, "saved"):
                    with ledger.lock:
                        ledger.answers[f"{attempt_id}:{position}"] = stored
            position += 1
        if time.monotonic() >= deadline:
            return
        submitted = client.post(f"/attempts/{attempt_id}/submit", {"csrf_token": token}, want_json=True)
        ledger.note(submitted, "submit")
        if _json_ok(submitted, "submitted"):
            with ledger.lock:
                ledger.submitted.add(attempt_id)


def _sleep_until(deadline: float, seconds: float) -> None:
    time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))


def _multi(csrf_token: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    # Checkboxes: one name, several values (harness.Client repeats the name for a list).
    return {"csrf_token": csrf_token, "option": [value for _, value in pairs]}


def staff_session(port: int, email: str, password: str, deadline: float, path: str, every: float,
                  ledger: Ledger) -> None:
    client = Client(port, HTTP_TIMEOUT)
    sign_in(client, email, password)
    while time.monotonic() < deadline:
        ledger.note(client.get(path), path)
        _sleep_until(deadline, every)


def auditor_session(port: int, password: str, deadline: float, ledger: Ledger) -> None:
    """Starts an evidence export every 20 s and watches it."""
    client = Client(port, HTTP_TIMEOUT)
    sign_in(client, AUDITOR_EMAIL, password)
    while time.monotonic() < deadline:
        page = client.get("/exports")
        ledger.note(page, "exports page")
        organisation = re.search(r'name="organisation_id"[^>]*>\s*<option[^>]*value="(\d+)"', page.text())
        if organisation:
            started = client.post("/exports", {"csrf_token": Form(page.text()).csrf_token, "kind": "certificates_zip",
                                               "organisation_id": organisation.group(1)})
            ledger.note(started, "export")
        _sleep_until(deadline, 20)


def run_l1(port: int, password: str, settings: Settings, ledger: Ledger) -> None:
    deadline = time.monotonic() + settings.duration
    rng = random.Random(1)
    jobs = [(agent_session, port, AGENT_EMAIL.format(n=n), password, deadline, settings.think, ledger,
             random.Random(rng.random())) for n in range(settings.agents)]
    jobs += [(staff_session, port, TRAINER_EMAIL.format(n=n), password, deadline, "/dashboard", 2.0, ledger)
             for n in range(2)]
    jobs.append((auditor_session, port, password, deadline, ledger))
    failures: list[str] = []

    def run(job: tuple) -> None:
        try:
            job[0](*job[1:])
        except (BenchError, OSError) as exc:
            failures.append(f"{job[0].__name__}: {exc}")

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(run, jobs))
    ledger.server_errors.extend(failures)


# ---- L2 ------------------------------------------------------------------------------------------------

def run_l2(server: Gunicorn, password: str, first: int, agents: int, ledger: Ledger, rng: random.Random) -> None:
    """Agents `first`.. answer some questions, then all submit at once while a worker is killed."""
    prepared: list[tuple[Client, int, str]] = []
    for n in range(first, first + agents):
        client = Client(server.port, HTTP_TIMEOUT)
        sign_in(client, AGENT_EMAIL.format(n=n), password)
        quiz = client.get(f"/quizzes/{QUIZ_SLUG}")
        token = Form(quiz.text()).csrf_token
        response = client.post(f"/quizzes/{QUIZ_SLUG}/start", {"csrf_token": token})
        match = re.fullmatch(r"/attempts/(\d+)/questions/\d+", urlsplit(response.location).path)
        if match is None:
            raise BenchError(f"L2: agent {n} could not start the quiz: HTTP {response.status} to {response.location}")
        attempt_id = int(match.group(1))
        ledger.started.add(attempt_id)
        for position in (1, 2, 3):
            form = read_form(client.get(f"/attempts/{attempt_id}/questions/{position}"), "question", QuestionForm)
            answer = form.random_answer(rng)
            if answer is None:
                continue
            fields, stored = answer
            saved = client.post(f"/attempts/{attempt_id}/answers/{position}",
                                {"csrf_token": form.csrf_token, **fields} if isinstance(fields, dict)
                                else _multi(form.csrf_token, fields), want_json=True)
            if _json_ok(saved, "saved"):
                ledger.answers[f"{attempt_id}:{position}"] = stored
        prepared.append((client, attempt_id, token))

    def submit(entry: tuple[Client, int, str]) -> None:
        client, attempt_id, token = entry
        try:
            response = client.post(f"/attempts/{attempt_id}/submit", {"csrf_token": token}, want_json=True)
        except (OSError, http.client.HTTPException):  # IncompleteRead: it died mid-reply
            with ledger.lock:
                ledger.lost_connections += 1  # the worker died under it: expected here
            return
        ledger.note(response, "submit")
        if _json_ok(response, "submitted"):
            with ledger.lock:
                ledger.submitted.add(attempt_id)

    workers = [int(pid) for pid in subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                                                   text=True).stdout.split()]
    if not workers:
        raise BenchError("L2: gunicorn has no worker processes to kill")
    with ThreadPoolExecutor(len(prepared)) as pool:
        futures = [pool.submit(submit, entry) for entry in prepared]
        time.sleep(0.05)  # submits are in flight
        os.kill(workers[0], signal.SIGKILL)
        for future in futures:
            future.result()


# ---- L4 ------------------------------------------------------------------------------------------------

class RoundRobinProxy:
    """A small TCP proxy on a free local port that hands each new connection to the next backend,
    as a load balancer in front of two app nodes would (the bench client opens one per request)."""

    def __init__(self, backends: Sequence[int]) -> None:
        self.backends = list(backends)
        self.connections = [0] * len(backends)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        ready.set()
        self._loop.run_forever()
        server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = sum(self.connections) % len(self.backends)
        self.connections[index] += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.backends[index])
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class CeleryProcess:
    """`celery -A lms.jobs.worker worker|beat` with the given environment, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "lms.jobs.worker", *args,
                                             "--loglevel=INFO"], cwd=Path(__file__).resolve().parent.parent,
                                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"celery did not say {text!r}:\n{self.log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_l4(settings: Settings, workdir: Path) -> Verdict:
    """Two app nodes behind a proxy, two Celery workers and one beat, on PostgreSQL and Redis."""
    seal_every = 2.0
    queue = f"lms-load-{secrets.token_hex(4)}"
    with postgres_database("lms_load_l4_") as url:
        if url is None:
            raise BenchError("L4 needs PostgreSQL")
        env = {**app_env(url), "SIGNING_KEY_PATH": str(workdir / "key.pem"),
               "SIGNING_CERT_PATH": str(workdir / "cert.pem"), "JOBS_RUNNER": "celery",
               "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13", "CELERY_QUEUE": queue,
               "AUDIT_SEAL_SECONDS": str(seal_every), "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/12",
               "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute"}
        password = secrets.token_urlsafe(16)
        agents = 12
        prepare(env, agents, password)
        with ExitStack() as stack:
            nodes = [stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"l4-node{n}.log", "/healthz", workers=2))
                     for n in (1, 2)]
            proxy = RoundRobinProxy([node.port for node in nodes])
            stack.callback(proxy.stop)
            workers = [CeleryProcess(env, workdir / f"l4-worker{n}.log", "worker", "-Q", queue, "--concurrency=1",
                                     "-n", f"{queue}-{n}@%h", "--without-gossip", "--without-mingle") for n in (1, 2)]
            for worker in workers:
                stack.callback(worker.stop)
                worker.wait_for(" ready.")
            beat = CeleryProcess(env, workdir / "l4-beat.log", "beat", "--schedule", str(workdir / "beat-schedule"))
            stack.callback(beat.stop)
            beat.wait_for("Sending due task lms.audit.seal")
            first_send = time.monotonic()
            problems: list[str] = []

            # Sessions: one sign-in holds on both nodes.
            client = Client(proxy.port, HTTP_TIMEOUT)
            sign_in(client, AGENT_EMAIL.format(n=0), password)
            homes = [client.get("/") for _ in range(10)]
            if any(h.status != 200 or "/login" in h.location for h in homes):
                problems.append(f"a session was lost across nodes: {[h.status for h in homes]}")

            # Rate limits: five failed sign-ins per account per minute in all, not per node.
            target = f"l4-limit-{secrets.token_hex(3)}@load.example"
            statuses = []
            for _ in range(6):
                anonymous = Client(proxy.port, HTTP_TIMEOUT)
                login = Form(anonymous.get("/login").text())
                statuses.append(anonymous.post("/login", {"email": target, "password": "wrong",
                                                          "csrf_token": login.csrf_token}).status)
            if statuses[:5].count(429) or statuses[5] != 429:
                problems.append(f"the sign-in limit did not hold across nodes: {statuses}")

            # Load and jobs: agents autosave and submit while the auditor's exports run on the workers.
            ledger = Ledger()
            l4_settings = Settings(agents=agents, duration=20, workers=2, think=(0.3, 1.0), submit_agents=0,
                                   databases=(), parts=())
            run_l1(proxy.port, password, l4_settings, ledger)
            problems += [f"server errors: {ledger.server_errors[:3]}"] if ledger.server_errors else []
            time.sleep(seal_every * 2)
            jobs = database_jobs(env)
            if not jobs or any(state != "succeeded" or attempts != 1 for state, attempts in jobs):
                problems.append(f"exports did not all succeed once: {jobs}")
            # Beat sends the sealer once per interval, and exactly one worker runs each: no node seals
            # on its own, and no task is delivered twice.
            beat_log = beat.log()
            sends = beat_log.count("Sending due task lms.audit.seal")
            elapsed = time.monotonic() - first_send
            logs = "".join(worker.log() for worker in workers)
            seals = re.findall(r"Task lms\.audit\.seal\[([0-9a-f-]+)\] received", logs)
            ran_jobs = [len(re.findall(r"Task lms\.jobs\.run\[[0-9a-f-]+\] received", w.log())) for w in workers]
            if len(set(seals)) != len(seals) or not sends - 1 <= len(seals) <= sends:
                problems.append(f"beat sent the sealer {sends} times, the workers ran it {len(seals)} times")
            if not elapsed / seal_every <= sends <= elapsed / seal_every + 2:
                problems.append(f"beat sent the sealer {sends} times in {elapsed:.0f} s, one every {seal_every:.0f} s "
                                "expected")
            if min(proxy.connections) == 0:
                problems.append(f"the proxy did not use both nodes: {proxy.connections}")
        findings = database_findings(env, ledger, workdir)
        verified, verify_line = audit_log_verifies(env)
    problems += [f"lost_answers: {findings['lost_answers'][:5]}"] if findings["lost_answers"] else []
    problems += [] if verified else [f"audit verify failed: {verify_line}"]
    return Verdict("L4 two app nodes, two workers, one beat", not problems, [
        f"connections per node {proxy.connections}; one sign-in served by both; sign-in limit replies {statuses}; "
        f"{len(jobs)} export(s) succeeded once each, run by the workers {ran_jobs}; beat sent the sealer {sends} "
        f"times in {elapsed:.0f} s and the workers ran it {len(seals)} times (once per interval expected); {findings['answers_checked']} acknowledged answers checked; "
        f"audit log verifies: {verified}", *problems])


def database_jobs(env: dict[str, str]) -> list[tuple[str, int]]:
    script = ("import json; from lms import create_app; from lms.extensions import db; from lms.jobs.models import Job\n"
              "with create_app().app_context():\n"
              "    print(json.dumps([(j.state.value, j.attempts) for j in db.session.query(Job).order_by(Job.id)]))")
    out, _ = run_command([sys.executable, "-c", script], {**env, "JOBS_RUNNER": "thread"}, timeout=COMMAND_TIMEOUT)
    return [tuple(job) for job in json.loads(out.strip().splitlines()[-1])]


# ---- L3 ------------------------------------------------------------------------------------------------

@contextmanager
def own_postgres_server() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL server of the suite's own (initdb in a temporary directory, a free port), so
    that restarting it under load troubles nobody else. Yields its URL and a restart function."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not binaries:
        raise BenchError("L3 needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
    bin_dir = binaries[-1]
    data = Path(tempfile.mkdtemp(prefix="lms-load-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(data, "postgres")
    port = free_port()
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data / "cluster"), "-w", "-l", str(data / "log")]

    def run(args: list[str]) -> None:
        result = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise BenchError(f"{' '.join(args)} failed: {result.stdout}{result.stderr}")

    run([*as_postgres, str(bin_dir / "initdb"), "-D", str(data / "cluster"), "-A", "trust", "-U", "postgres",
         "--no-sync"])
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    run([*pg_ctl, "-o", options, "start"])
    try:
        run([*as_postgres, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "lms"])
        yield (f"postgresql+psycopg://postgres@127.0.0.1:{port}/lms",
               lambda: run([*pg_ctl, "-m", "fast", "-o", options, "restart"]))
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def saving_agent(port: int, email: str, password: str, deadline: float, restarted: threading.Event,
                 ledger: Ledger, rng: random.Random) -> None:
    """Start an attempt, then autosave random answers to its first questions until the deadline."""
    client = Client(port, HTTP_TIMEOUT)
    sign_in(client, email, password)
    token = Form(client.get(f"/quizzes/{QUIZ_SLUG}").text()).csrf_token
    response = client.post(f"/quizzes/{QUIZ_SLUG}/start", {"csrf_token": token})
    match = re.fullmatch(r"/attempts/(\d+)/questions/\d+", urlsplit(response.location).path)
    if match is None:
        raise BenchError(f"L3: {email} could not start the quiz: HTTP {response.status}")
    attempt_id = int(match.group(1))
    forms = {position: read_form(client.get(f"/attempts/{attempt_id}/questions/{position}"), "question",
                                 QuestionForm) for position in (1, 2, 3)}
    with ledger.lock:
        ledger.started.add(attempt_id)
    while time.monotonic() < deadline:
        position = rng.choice((1, 2, 3))
        answer = forms[position].random_answer(rng)
        if answer is None:
            continue
        fields, stored = answer
        body = ({"csrf_token": forms[position].csrf_token, **fields} if isinstance(fields, dict)
                else _multi(forms[position].csrf_token, fields))
        try:
            saved = client.post(f"/attempts/{attempt_id}/answers/{position}", body, want_json=True)
        except OSError:
            with ledger.lock:
                ledger.lost_connections += 1
            continue
        ledger.note(saved, "autosave")
        if _json_ok(saved, "saved"):
            with ledger.lock:
                ledger.answers[f"{attempt_id}:{position}"] = stored
                ledger.after_restart += restarted.is_set()
        time.sleep(rng.uniform(0.1, 0.4))


def run_l3(settings: Settings, workdir: Path) -> Verdict:
    """Agents autosave while the suite's own PostgreSQL server restarts; nothing acknowledged is lost."""
    with own_postgres_server() as (url, restart):
        env = {**app_env(url), "JOBS_RUNNER": "thread", "AUDIT_SEAL_SECONDS": "0"}
        password = secrets.token_urlsafe(16)
        agents = 16
        prepare(env, agents, password)
        ledger, restarted = Ledger(), threading.Event()
        with Gunicorn("wsgi:app", env, workdir / "l3.log", "/healthz", workers=2) as server:
            deadline = time.monotonic() + 25
            try:
                with ThreadPoolExecutor(agents) as pool:
                    futures = [pool.submit(saving_agent, server.port, AGENT_EMAIL.format(n=n), password, deadline,
                                           restarted, ledger, random.Random(n)) for n in range(agents)]
                    time.sleep(8)
                    began = time.monotonic()
                    restart()
                    restarted.set()
                    down_for = time.monotonic() - began
                    for future in futures:
                        future.result()
            except BenchError as exc:
                raise BenchError(f"{exc}\n--- end of the server log ---\n{server.log_tail(40)}") from exc
            log_tail = server.log_tail()
        findings = database_findings(env, ledger, workdir)
    problems = [f"{len(ledger.server_errors)} error(s) that were not the 503 page: {ledger.server_errors[:3]}"] \
        if ledger.server_errors else []
    problems += [f"lost_answers: {findings['lost_answers'][:5]}"] if findings["lost_answers"] else []
    if ledger.after_restart == 0:
        problems.append("no answer was saved after the restart: the app did not recover")
    return Verdict("L3 PostgreSQL restarted under load", not problems, [
        f"{agents} agents autosaving; the server restart took {down_for:.1f} s; {ledger.unavailable} replies were the "
        f"503 page (with the security headers), {ledger.lost_connections} connections dropped, "
        f"{ledger.after_restart} saves acknowledged after it, {findings['answers_checked']} acknowledged answers "
        "checked in the database", *problems, *([f"server log: {log_tail}"] if problems else [])])


# ---- checking the database --------------------------------------------------------------------------

def check_database(ledger_path: str) -> None:
    """Compare the database with the ledger; print the findings as JSON (run in a subprocess)."""
    from sqlalchemy import func, select

    from lms import create_app
    from lms.assessment.models import Answer, Attempt, AttemptStatus
    from lms.audit.models import AuditEvent
    from lms.extensions import db

    ledger = json.loads(Path(ledger_path).read_text())
    findings: dict[str, Any] = {"lost_answers": [], "ungraded_submits": [], "graded_twice": [],
                                "half_submitted": []}
    with create_app().app_context():
        stored = {f"{a.attempt_id}:{a.position}": a.response for a in db.session.scalars(select(Answer))}
        for key, expected in ledger["answers"].items():
            if stored.get(key) != expected:
                findings["lost_answers"].append({"answer": key, "acknowledged": expected, "stored": stored.get(key)})
        attempts = {a.id: a for a in db.session.scalars(select(Attempt))}
        for attempt_id in ledger["submitted"]:
            attempt = attempts.get(attempt_id)
            if attempt is None or attempt.status is AttemptStatus.IN_PROGRESS or attempt.percent is None:
                findings["ungraded_submits"].append(attempt_id)
        submitted_events = dict(db.session.execute(
            select(AuditEvent.target_id, func.count()).where(AuditEvent.action == "attempt.submitted",
                                                             AuditEvent.target_type == "attempt")
            .group_by(AuditEvent.target_id)).all())
        findings["graded_twice"] = sorted(int(t) for t, n in submitted_events.items() if n > 1)
        for attempt_id in ledger["started"]:
            attempt = attempts.get(attempt_id)
            if attempt is not None and attempt.status is not AttemptStatus.IN_PROGRESS and attempt.percent is None:
                findings["half_submitted"].append(attempt_id)
        findings["attempts"] = len(ledger["started"])
        findings["answers_checked"] = len(ledger["answers"])
        findings["submits_checked"] = len(ledger["submitted"])
    print(json.dumps(findings))


def database_findings(env: dict[str, str], ledger: Ledger, workdir: Path) -> dict[str, Any]:
    path = workdir / f"ledger-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(ledger.to_json()))
    out, _ = run_command([sys.executable, "-c", f"from bench.load import check_database; check_database({str(path)!r})"],
                         env, timeout=COMMAND_TIMEOUT)
    return json.loads(out.strip().splitlines()[-1])


def audit_log_verifies(env: dict[str, str]) -> tuple[bool, str]:
    run_command(flask("lms", "audit", "seal"), env, timeout=COMMAND_TIMEOUT)
    result = subprocess.run(flask("lms", "audit", "verify"), cwd=Path(__file__).resolve().parent.parent, env=env,
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return result.returncode == 0, (result.stdout + result.stderr).strip().splitlines()[-1:]


# ---- one database ---------------------------------------------------------------------------------------

@dataclass
class Verdict:
    scenario: str
    passed: bool
    lines: list[str]


def run_database(label: str, database_url: str, settings: Settings, workdir: Path) -> list[Verdict]:
    started = time.monotonic()

    def step(message: str) -> None:
        print(f"[{label} {time.monotonic() - started:6.1f} s] {message}", flush=True)

    env = {**app_env(database_url), "SIGNING_KEY_PATH": str(workdir / f"{label}-key.pem"),
           "SIGNING_CERT_PATH": str(workdir / f"{label}-cert.pem"), "JOBS_RUNNER": "thread",
           "AUDIT_SEAL_SECONDS": "2"}
    password = secrets.token_urlsafe(16)
    step(f"migrating, loading content, creating {settings.agents} + {settings.submit_agents} agents")
    prepare(env, settings.agents + settings.submit_agents, password)
    verdicts: list[Verdict] = []

    l1 = Ledger()
    with Gunicorn("wsgi:app", env, workdir / f"{label}-l1.log", "/healthz", workers=settings.workers,
                  worker_timeout=60) as server:
        step(f"L1: {settings.agents} agents, 2 trainers and an auditor for {settings.duration:.0f} s, "
             f"{settings.workers} workers")
        run_l1(server.port, password, settings, l1)
        log_tail = server.log_tail()
    findings = database_findings(env, l1, workdir)
    verified, verify_line = audit_log_verifies(env)
    problems = [f"{len(l1.server_errors)} server error(s), first: {l1.server_errors[:3]}"] if l1.server_errors else []
    problems += [f"{l1.unavailable} 503 replies with the database up"] if l1.unavailable else []
    problems += [f"{key}: {findings[key][:5]}" for key in ("lost_answers", "ungraded_submits", "graded_twice",
                                                            "half_submitted") if findings[key]]
    if not verified:
        problems.append(f"audit verify failed: {verify_line}")
    if findings["submits_checked"] == 0:
        problems.append("no attempt was submitted: the run was too short to test grading")
    verdicts.append(Verdict("L1 many agents at once", not problems, [
        f"{l1.requests} requests, {findings['attempts']} attempts, {findings['answers_checked']} acknowledged "
        f"answers and {findings['submits_checked']} acknowledged submits checked in the database; "
        f"audit log verifies: {verified}", *problems, *([f"server log: {log_tail}"] if problems else [])]))

    l2 = Ledger()
    with Gunicorn("wsgi:app", env, workdir / f"{label}-l2.log", "/healthz", workers=2) as server:
        step(f"L2: {settings.submit_agents} submits in flight, one worker killed")
        run_l2(server, password, settings.agents, settings.submit_agents, l2, random.Random(2))
    findings = database_findings(env, l2, workdir)
    problems = [f"{key}: {findings[key][:5]}" for key in ("lost_answers", "ungraded_submits", "graded_twice",
                                                           "half_submitted") if findings[key]]
    problems += [f"server error(s): {l2.server_errors[:3]}"] if l2.server_errors else []
    verdicts.append(Verdict("L2 worker killed mid-submit", not problems, [
        f"{findings['attempts']} attempts submitted at once, {l2.lost_connections} replies lost with the killed "
        f"worker, {len(l2.submitted)} acknowledged; every attempt is graded or in progress with its answers",
        *problems]))
    return verdicts


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="30 s with 24 agents (the CI version)")
    parser.add_argument("--agents", type=int)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--only", choices=("L1L2", "L3", "L4"), help="run one part of the suite")
    args = parser.parse_args(argv)
    short = args.short
    parts = (args.only,) if args.only else ("L1L2",) if short else ("L1L2", "L4", "L3")  # L3 last, as it restarts a server
    return Settings(agents=args.agents or (24 if short else 200), duration=args.duration or (30 if short else 300),
                    workers=args.workers or (2 if short else 4), think=(0.3, 1.0) if short else (1.0, 3.0),
                    submit_agents=12 if short else 40, databases=(args.database,), parts=parts)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    results: dict[str, list[Verdict]] = {}
    if "L1L2" in settings.parts:
        by_database = on_each_database(settings.databases, "lms-load-", "lms_load_",
                                       lambda label, url, workdir: run_database(label, url, settings, workdir))
        if by_database is None:
            return 1
        results.update(by_database)
    for part, run in (("L4", run_l4), ("L3", run_l3)):
        if part in settings.parts:
            with tempfile.TemporaryDirectory(prefix="lms-load-") as tmp:
                try:
                    results.setdefault("postgresql", []).append(run(settings, Path(tmp)))
                except BenchError as exc:
                    print(f"{part} failed to run: {exc}", file=sys.stderr)
                    return 1
    failed = False
    for label, verdicts in results.items():
        for verdict in verdicts:
            failed |= not verdict.passed
            print(f"{'PASS' if verdict.passed else 'FAIL'}  [{label}] {verdict.scenario}")
            for line in verdict.lines:
                print(f"      {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
