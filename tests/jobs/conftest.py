"""People of every role around two partners, job kinds that tests control, and the thread runner."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask

from lms.accounts.models import OrganisationKind, Role
from lms.extensions import db
from lms.jobs import kinds
from lms.jobs.context import JobContext, OutputFile
from lms.jobs.runner import ThreadRunner, runner_for
from tests import factories


@pytest.fixture
def people(app: Flask) -> dict:
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    partner = factories.organisation("Atlas Care")
    other = factories.organisation("Lisboa CS")
    result = {
        "client": client_org, "partner": partner, "other": other,
        "admin": factories.user(Role.ADMIN, client_org),
        "trainer": factories.user(Role.TRAINER, client_org),
        "other_trainer": factories.user(Role.TRAINER, client_org),
        "auditor": factories.user(Role.AUDITOR, client_org),
        "scoped": factories.user(Role.AUDITOR, client_org, scope=partner),
        "agent": factories.user(Role.AGENT, partner),
    }
    db.session.commit()
    return result


@dataclass
class Script:
    """What the test kind does: report steps, optionally wait between them, then fail or return files."""

    steps: int = 2
    fail_with: Exception | None = None
    gate: threading.Event | None = None  # when set, each step waits for it
    step_reached: threading.Event = field(default_factory=threading.Event)
    threads: list[int] = field(default_factory=list)
    seen: list[Callable[[JobContext], None]] = field(default_factory=list)  # checks run inside the job

    def __call__(self, ctx: JobContext) -> list[OutputFile]:
        self.threads.append(threading.get_ident())
        ctx.report_progress(0, self.steps)
        for step in range(1, self.steps + 1):
            if self.gate is not None:
                self.step_reached.set()
                assert self.gate.wait(10), "the test never opened the gate"
                self.gate.clear()
            ctx.report_progress(step, self.steps)
            for check in self.seen:
                check(ctx)
        if self.fail_with is not None:
            raise self.fail_with
        return [OutputFile("report.txt", "text/plain", f"organisation {ctx.organisation_id}".encode()),
                OutputFile("data.json", "application/json", b'{"ok": true}')]


@pytest.fixture
def script(app: Flask) -> Iterator[Script]:
    """A job kind named "test_kind", listed on the exports page while the test runs."""
    behaviour = Script()
    kinds.register(kinds.JobKind("test_kind", "Test export", behaviour, export=True))
    yield behaviour
    kinds.unregister("test_kind")


@pytest.fixture
def thread_runner(app: Flask) -> Iterator[ThreadRunner]:
    app.config["JOBS_RUNNER"] = "thread"
    runner = runner_for(app)
    assert isinstance(runner, ThreadRunner)
    yield runner
    runner.shutdown()
