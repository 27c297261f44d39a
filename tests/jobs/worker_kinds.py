"""Job kinds that the Celery worker tests control from outside the worker process, through files.

- "gated_certificates" is the real certificates ZIP export, except that after its first
  certificate it writes its process id to `pid` and waits while `hold` exists in LMS_TEST_GATE_DIR:
  the test can kill the process mid-export, then let a retry run through.
- "always_fails" raises an unexpected error every time it runs.
"""
from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from lms.evidence import exports
from lms.jobs import kinds
from lms.jobs.context import JobContext, OutputFile

GATED, FAILING = "gated_certificates", "always_fails"


def gated_certificates(ctx: JobContext) -> list[OutputFile]:
    gate = Path(os.environ["LMS_TEST_GATE_DIR"])

    def progress(done: int, total: int) -> None:
        ctx.report_progress(done, total)  # commits the certificate issued so far
        if done == 1:
            (gate / "pid").write_text(str(os.getpid()))
            deadline = time.monotonic() + 60
            while (gate / "hold").exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    return exports.certificates_zip(replace(ctx, _progress=progress))


def always_fails(ctx: JobContext) -> list[OutputFile]:
    ctx.report_progress(0, 1)
    raise RuntimeError("the disk is on fire")


def register() -> None:
    kinds.register(kinds.JobKind(GATED, "Certificates (gated)", gated_certificates))
    kinds.register(kinds.JobKind(FAILING, "Always fails", always_fails))


def unregister() -> None:
    kinds.unregister(GATED)
    kinds.unregister(FAILING)
