"""Benchmark of the CSV roster import: 10,000 agents previewed and applied as a job.

For SQLite and PostgreSQL in turn, it prepares a fresh database the way an operator would
(`flask db upgrade`, `lms content load`, `lms demo`), then starts a worker process that stores a
generated roster of N new Atlas Customer Care agents as the admin, plans it as the preview does,
and runs the apply job with the jobs' own code (services.run_job: every row through the account
services, audit events and enrolments included). The worker reports the wall time of each step,
its peak resident memory (resource.getrusage) and what it grew by during the import. The baseline,
measured in the same worker, is a bare executemany INSERT of the same N user rows, rolled back.

Targets (issue #15): importing 10,000 rows on PostgreSQL in <= 30 s, with < 200 MB of memory.
Run from anywhere: `python bench/roster_import.py` (see bench/README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as a script: make `bench` (and `lms`) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    DATABASES, BenchError, app_env, flask, format_table, migrate_and_load_content, on_each_database, run_command,
)

ADMIN = "admin@northwind.example"
ORGANISATION = "Atlas Customer Care"
TARGET_SECONDS = 30.0
TARGET_MB = 200.0
COMMAND_TIMEOUT = 900.0


def roster(rows: int) -> bytes:
    """A roster file as Excel writes it in much of Europe: BOM, semicolons, CRLF."""
    lines = ["Employee id;Name;E-mail;Organisation;Role;Team;Start date"]
    lines += [f"B-{n:06d};Bench Agent {n};bench.agent{n}@atlascare.example;{ORGANISATION};agent;"
              f"Team {n % 40};2026-09-01" for n in range(rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def worker(rows: int) -> dict[str, float]:
    """Inside the worker process: the import and its baseline, timed; the figures as a dict."""
    from sqlalchemy import insert, select

    from lms import create_app
    from lms.accounts.models import Organisation, User
    from lms.extensions import db
    from lms.jobs.models import Job, JobState
    from lms.jobs.services import run_job
    from lms.roster import services
    from lms.roster.job import KIND

    app = create_app()
    app.config["JOBS_RUNNER"] = "eager"
    data = roster(rows)
    figures: dict[str, float] = {}
    with app.app_context(), app.test_request_context("/", base_url=app.config["BASE_URL"]):
        admin = db.session.scalar(select(User).where(User.email == ADMIN))
        org = db.session.scalar(select(Organisation).where(Organisation.name == ORGANISATION))
        # Baseline: the same rows as one bare INSERT, rolled back.
        start = time.perf_counter()
        db.session.execute(insert(User), [
            {"email": f"bench.agent{n}@atlascare.example", "name": f"Bench Agent {n}", "role": "agent",
             "organisation_id": org.id, "employee_id": f"B-{n:06d}", "team": f"Team {n % 40}", "active": True}
            for n in range(rows)])
        db.session.flush()
        figures["baseline_s"] = time.perf_counter() - start
        db.session.rollback()

        rss_before = _rss_mb()
        start = time.perf_counter()
        upload = services.store_upload(admin, "bench.csv", data, full_roster=False)
        db.session.commit()
        figures["upload_s"] = time.perf_counter() - start
        start = time.perf_counter()
        plan = services.plan(admin, upload)
        figures["preview_s"] = time.perf_counter() - start
        if plan.counts[services.CREATE] != rows:
            raise BenchError(f"the preview plans {dict(plan.counts)}, not {rows} creations")
        job = Job(kind=KIND, requested_by_id=admin.id, organisation_id=None, state=JobState.QUEUED,
                  params={"upload_id": upload.id, "valid_rows_only": False, "confirmed_leavers": 0})
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    start = time.perf_counter()
    from lms.jobs.runner import job_context
    with job_context(app):
        state = run_job(job_id)
        created = db.session.scalar(select(db.func.count()).select_from(User).where(
            User.email.like("bench.agent%")))
        error = db.session.get(Job, job_id).error
    figures["apply_s"] = time.perf_counter() - start
    if state is not JobState.SUCCEEDED or created != rows:
        raise BenchError(f"the job ended {state} with {created} people created: {error}")
    figures["peak_rss_mb"] = _rss_mb()
    figures["import_growth_mb"] = figures["peak_rss_mb"] - rss_before
    return figures


def bench_database(label: str, url: str, rows: int) -> dict[str, float]:
    env = app_env(url)
    migrate_and_load_content(env, timeout=COMMAND_TIMEOUT)
    run_command(flask("lms", "demo"), env, timeout=COMMAND_TIMEOUT)
    result = subprocess.run([sys.executable, __file__, "--worker", str(rows)], env=env, capture_output=True,
                            text=True, timeout=COMMAND_TIMEOUT)
    if result.returncode != 0:
        raise BenchError(f"the {label} worker failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """0 when every database met both targets, 1 when one was missed, 2 when the set-up failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database", choices=DATABASES, action="append", help="default: both")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    settings = parser.parse_args(argv)
    if settings.worker:
        print(json.dumps(worker(settings.worker)))
        return 0
    started = time.monotonic()
    results = on_each_database(settings.database or DATABASES, "callsafe-bench-roster-", "callsafe_bench_roster_",
                               lambda label, url, workdir: bench_database(label, url, settings.rows))
    if results is None:
        return 2
    lines = [["database", "rows", "upload s", "preview s", "apply s", "bare INSERT s", "apply/bare",
              "peak RSS MB", "import growth MB", f"<= {TARGET_SECONDS:.0f} s", f"< {TARGET_MB:.0f} MB"]]
    ok = True
    for label, f in results.items():
        total = f["upload_s"] + f["preview_s"] + f["apply_s"]
        met_time, met_memory = total <= TARGET_SECONDS, f["peak_rss_mb"] < TARGET_MB
        ok = ok and (label != "postgresql" or (met_time and met_memory))
        lines.append([label, f"{settings.rows:,}", f"{f['upload_s']:.1f}", f"{f['preview_s']:.1f}",
                      f"{f['apply_s']:.1f}", f"{f['baseline_s']:.2f}", f"{f['apply_s'] / f['baseline_s']:.0f}x",
                      f"{f['peak_rss_mb']:.0f}", f"{f['import_growth_mb']:.0f}",
                      "yes" if met_time else "NO", "yes" if met_memory else "NO"])
    print(format_table(lines))
    print(f"(time target: upload + preview + apply; memory: the worker's peak RSS, app and data included; "
          f"whole run {time.monotonic() - started:.0f} s on {os.cpu_count()} cores)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
