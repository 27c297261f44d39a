"""SCIM provisioning benchmark (issue #15): creating 1,000 users one by one, against bare Flask.

For SQLite and PostgreSQL in turn, it migrates a fresh database (`flask db upgrade`), creates an
organisation and a SCIM token for it with the app's own service, serves the LMS with gunicorn
next to the bare Flask app in bench/baseline_app.py (same settings), and then creates the users
as an identity provider does on its first sync: one POST /scim/v2/Users after the other, each
on its own connection, with a bearer token and a JSON body. The bare app's POST /answer (parse
the body, reply with JSON) is timed in slices that alternate with it. The target is at least
0.3 of the bare app's request rate.

Run from anywhere: `python bench/scim.py` (see bench/README.md). Everything listens on
127.0.0.1 and is torn down at the end, on error too.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, HOST, BenchError, Gunicorn, Row, Stats, app_env, exit_status, flask, format_table,
    on_each_database, ratio_cell, run_command, timed,
)

TARGET_RATIO = 0.3
COMMAND_TIMEOUT = 300.0
SLICES = 4  # the users are created in this many slices, each followed by as many bare requests

# Run with the app's interpreter and environment: an organisation and a token, the token printed.
MAKE_TOKEN = """
from lms import create_app
from lms.accounts.models import Organisation, OrganisationKind
from lms.extensions import db
from lms.scim.tokens import create_token
app = create_app()
with app.app_context():
    org = Organisation(name="Bench Partner", kind=OrganisationKind.PARTNER, country="PT")
    db.session.add(org)
    _, secret = create_token(None, org, "bench", 1)
    db.session.commit()
    print(secret)
"""


@dataclass(frozen=True)
class Settings:
    users: int
    workers: int
    clients: int  # requests in flight at once: 1 is an IdP that waits for each answer
    databases: tuple[str, ...]
    floor: bool  # also bench/stack_floor_app.py's create, in the same slices


def _post(port: int, path: str, body: bytes, headers: dict[str, str], expected: int) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Connection": "close", **headers})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != expected:
        raise BenchError(f"POST {path}: HTTP {response.status} {data[:200]!r}")


def _user(n: int) -> bytes:
    return json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                       "userName": f"agent{n:05d}@bench.example", "externalId": f"B{n:05d}",
                       "name": {"givenName": "Agent", "familyName": f"{n:05d}"},
                       "emails": [{"value": f"agent{n:05d}@bench.example", "primary": True}],
                       "active": True}).encode()


def bench_database(label: str, url: str, workdir: Path, settings: Settings) -> list[Row]:
    env = app_env(url)
    run_command(flask("db", "upgrade"), env, timeout=COMMAND_TIMEOUT)
    token, _ = run_command([sys.executable, "-c", MAKE_TOKEN], env, timeout=COMMAND_TIMEOUT)
    scim_headers = {"Authorization": f"Bearer {token.strip().splitlines()[-1]}",
                    "Content-Type": "application/scim+json"}
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    app_stats, bare_stats, floor_stats = Stats(), Stats(), Stats()
    with ExitStack() as stack:
        app = stack.enter_context(Gunicorn("wsgi:app", env, workdir / f"{label}-app.log", "/healthz",
                                           workers=settings.workers, ready_within=60))
        bare = stack.enter_context(Gunicorn("bench.baseline_app:app", env, workdir / f"{label}-bare.log", "/",
                                            workers=settings.workers))
        measures = [(app_stats, lambda i: _post(app.port, "/scim/v2/Users", _user(i), scim_headers, 201)),
                    (bare_stats, lambda i: _post(bare.port, "/answer", b"option=a", form_headers, 200))]
        if settings.floor:
            floor_key = json.loads(run_command([sys.executable, "-m", "bench.stack_floor_app", "--people", "0",
                                                "--user-agent", "callsafe-bench", "--api"], env,
                                               timeout=COMMAND_TIMEOUT)[0])["token"]
            floor = stack.enter_context(Gunicorn("bench.stack_floor_app:create_app()", env,
                                                 workdir / f"{label}-floor.log", "/", workers=settings.workers))
            floor_headers = {**scim_headers, "Authorization": f"Bearer {floor_key}"}
            measures.append((floor_stats, lambda i: _post(floor.port, "/scim/v2/Users", _user(i), floor_headers, 201)))
        per_slice = settings.users // SLICES
        n = 0
        for _ in range(SLICES):
            for stats, action in measures:
                start = time.perf_counter()
                with ThreadPoolExecutor(settings.clients) as pool:
                    list(pool.map(lambda i, stats=stats, action=action: timed(stats, lambda: action(i)),
                                  range(n, n + per_slice)))
                stats.elapsed += time.perf_counter() - start
            n += per_slice
        if app_stats.errors:
            print(f"first error: {app_stats.first_error}\n{app.log_tail()}", file=sys.stderr)
    rows = [Row(label, f"create {n} users one by one, {settings.clients} in flight", app_stats, bare_stats)]
    if settings.floor:
        rows.append(Row(label, f"{FLOOR_MEASURE}, {settings.clients} in flight", floor_stats, bare_stats))
    return rows


FLOOR_MEASURE = "stack floor: create one by one"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="users to create (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--clients", type=int, default=1,
                        help="requests in flight at once (default 1: each waits for the previous answer)")
    parser.add_argument("--database", choices=DATABASES, action="append",
                        help="sqlite or postgresql (default: both)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the create of bench/stack_floor_app.py, the mandated stack's least")
    args = parser.parse_args()
    if args.users < SLICES or min(args.workers, args.clients) < 1:
        parser.error(f"--users must be at least {SLICES}, --workers and --clients at least 1")
    settings = Settings(args.users, args.workers, args.clients, tuple(args.database or DATABASES), args.floor)
    results = on_each_database(settings.databases, "scim-bench-", "scim_bench_",
                               lambda label, url, workdir: bench_database(label, url, workdir, settings))
    if results is None:
        return 2
    rows = [row for database_rows in results.values() for row in database_rows]
    lines = [["database", "measure", "users/s", "bare req/s", "ratio", f"target ≥ {TARGET_RATIO}", "p95 ms", "errors"]]
    for row in rows:
        ratio = row.rps_ratio
        verdict = "(reference)" if row.measure.startswith(FLOOR_MEASURE) else \
            "met" if ratio is not None and ratio >= TARGET_RATIO else "NOT MET"
        lines.append([row.database, row.measure, f"{row.app.rps:.0f}", f"{row.baseline.rps:.0f}",
                      ratio_cell(ratio, ".2f"), verdict, f"{row.app.percentile_ms(95):.1f}",
                      str(row.app.errors + row.baseline.errors)])
    print(format_table(lines))
    lms_rows = [row for row in rows if not row.measure.startswith(FLOOR_MEASURE)]
    return exit_status(rows) or (0 if all((r.rps_ratio or 0) >= TARGET_RATIO for r in lms_rows) else 1)


if __name__ == "__main__":
    sys.exit(main())
