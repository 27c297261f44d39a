"""Sending the outbox to the learning record store: batched, retried with backoff, idempotent.

A run claims a batch of due rows with one conditional UPDATE (queued or failed and due, or held
by a run that died) and commits the claim before it talks to the LRS, so two runs at once (two
beats, a beat and `flask lms xapi send`) never send the same row together. Each statement keeps
the id it was written with, and the LRS stores an id once: a statement sent twice (a run that
died after the LRS answered) is answered as already there, which counts as delivered. Nothing
here runs in a request: with Celery, beat runs `send_pending` on the schedule registered below
with lms/jobs/schedule.py.
"""
from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from lms.accounts.models import User
from lms.clock import now
from lms.extensions import db
from lms.jobs import schedule
from lms.xapi.models import OutboxState, XapiStatement
from lms.xapi.outbox import may_send, withhold

XAPI_VERSION = "1.0.3"
# A run that claimed rows and did not finish with them within this long is taken to have died.
CLAIM_EXPIRES = timedelta(minutes=10)


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    withheld: int = 0
    configured: bool = True

    def summary(self) -> str:
        if not self.configured:
            return "no LRS configured (XAPI_LRS_URL): statements stay in the outbox"
        return (f"delivered {self.delivered} xAPI statement(s), {self.failed} failed (retried later), "
                f"{self.withheld} withheld")


class LRSError(Exception):
    """The LRS refused or could not be reached; the message is shown on the outbox page."""

    def __init__(self, message: str, *, bad_request: bool = False) -> None:
        super().__init__(message)
        self.bad_request = bad_request  # the statements, not the LRS, are at fault


def statements_url() -> str:
    return current_app.config["XAPI_LRS_URL"].rstrip("/") + "/statements"


def _due(at) -> object:
    return or_(and_(XapiStatement.state.in_([OutboxState.QUEUED, OutboxState.FAILED]),
                    XapiStatement.next_try_at <= at),
               and_(XapiStatement.state == OutboxState.SENDING, XapiStatement.claimed_at < at - CLAIM_EXPIRES))


def claim_batch(limit: int) -> list[XapiStatement]:
    """Take up to `limit` due rows for this run and commit the claim; [] when none is due."""
    at = now()
    ids = list(db.session.scalars(select(XapiStatement.id).where(_due(at)).order_by(XapiStatement.id).limit(limit)))
    if not ids:
        return []
    token = secrets.token_hex(16)
    # The WHERE is checked again as each row is updated: a row another run claimed meanwhile is skipped.
    db.session.execute(update(XapiStatement).where(XapiStatement.id.in_(ids), _due(at))
                       .values(state=OutboxState.SENDING, claim=token, claimed_at=at)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return list(db.session.scalars(select(XapiStatement).where(XapiStatement.claim == token)
                                   .order_by(XapiStatement.id)))


def post_statements(payloads: Sequence[dict]) -> None:
    """POST statements to the LRS (xAPI 1.0.3, Basic auth); raise LRSError unless it stored them.

    200 (stored), 204 and 409 (a statement with this id is already there) count as delivered.
    """
    config = current_app.config
    credentials = base64.b64encode(f"{config['XAPI_LRS_KEY']}:{config['XAPI_LRS_SECRET']}".encode()).decode()
    request = urllib.request.Request(
        statements_url(), data=json.dumps(list(payloads)).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION,
                 "Authorization": f"Basic {credentials}"})
    try:
        with urllib.request.urlopen(request, timeout=config["XAPI_TIMEOUT_SECONDS"]) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 409:
            return
        detail = exc.read(300).decode("utf-8", "replace").strip()
        raise LRSError(f"HTTP {exc.code} from the LRS: {detail}", bad_request=exc.code == 400) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LRSError(f"The LRS could not be reached: {reason}") from None


def _delivered(row: XapiStatement) -> None:
    row.state, row.delivered_at, row.attempts = OutboxState.DELIVERED, now(), row.attempts + 1
    row.next_try_at = row.claim = row.claimed_at = row.last_error = None


def _failed(row: XapiStatement, error: str) -> None:
    """Back off exponentially: XAPI_RETRY_SECONDS, twice that, ...; after XAPI_MAX_ATTEMPTS, only Retry."""
    config = current_app.config
    row.attempts += 1
    row.state, row.last_error, row.claim, row.claimed_at = OutboxState.FAILED, error[:2000], None, None
    row.next_try_at = (now() + timedelta(seconds=config["XAPI_RETRY_SECONDS"] * 2 ** (row.attempts - 1))
                       if row.attempts < config["XAPI_MAX_ATTEMPTS"] else None)


def send_batch(rows: list[XapiStatement], report: SendReport) -> bool:
    """Send claimed rows; commit their outcome. False when the LRS itself failed (stop this run)."""
    people = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_({row.user_id for row in rows})))}
    sendable = []
    for row in rows:
        if may_send(people[row.user_id]):
            sendable.append(row)
        else:
            withhold(row)
            report.withheld += 1
    lrs_ok = True
    if sendable:
        try:
            post_statements([row.statement for row in sendable])
        except LRSError as exc:
            if exc.bad_request and len(sendable) > 1:
                # One bad statement rejects a whole batch: send them one by one, so it holds up no other.
                for row in sendable:
                    lrs_ok = send_batch_of_one(row, report) and lrs_ok
            else:
                for row in sendable:
                    _failed(row, str(exc))
                report.failed += len(sendable)
                lrs_ok = exc.bad_request
        else:
            for row in sendable:
                _delivered(row)
            report.delivered += len(sendable)
    db.session.commit()
    return lrs_ok


def send_batch_of_one(row: XapiStatement, report: SendReport) -> bool:
    try:
        post_statements([row.statement])
    except LRSError as exc:
        _failed(row, str(exc))
        report.failed += 1
        return exc.bad_request
    _delivered(row)
    report.delivered += 1
    return True


def send_pending(max_batches: int = 100) -> SendReport:
    """Deliver what is due, batch after batch, until nothing is due or the LRS fails."""
    if not current_app.config.get("XAPI_LRS_URL"):
        return SendReport(configured=False)
    report = SendReport()
    for _ in range(max_batches):
        rows = claim_batch(current_app.config["XAPI_BATCH_SIZE"])
        if not rows or not send_batch(rows, report):
            break
    return report


def retry(actor: User, row_id: int | None = None) -> int:
    """The admin's Retry: failed rows (one, or all) are due again now, with their tries counted afresh."""
    from lms.audit.services import record

    query = update(XapiStatement).where(XapiStatement.state == OutboxState.FAILED)
    if row_id is not None:
        query = query.where(XapiStatement.id == row_id)
    count = db.session.execute(query.values(state=OutboxState.QUEUED, next_try_at=now(), attempts=0)
                               .execution_options(synchronize_session=False)).rowcount
    record("xapi.retried", actor=actor, statements=count, row=row_id)
    return count


def counts_by_state() -> dict[OutboxState, int]:
    rows = db.session.execute(select(XapiStatement.state, func.count()).group_by(XapiStatement.state))
    counts = {state: 0 for state in OutboxState}
    counts.update({state: count for state, count in rows})
    return counts


def _scheduled_send() -> str:
    return send_pending().summary()


schedule.register(schedule.Periodic("lms.xapi.send", _scheduled_send, lambda c: c["XAPI_SEND_SECONDS"] or None))
