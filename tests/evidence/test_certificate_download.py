"""A stored certificate's download: what it reads and writes (issue #13's performance work).

The bytes, the headers and the audit event are what they were; the statements a download
runs are counted so that they cannot quietly grow back (it ran seven before: the award and
the certificate were each read twice, the second time after the commit).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

import lms.driver_statements
from lms.audit.models import AuditEvent
from lms.evidence.models import Certificate
from lms.extensions import db
from tests.evidence.test_certificates import certified  # noqa: F401 (fixture)
from tests.certification.conftest import at, content  # noqa: F401 (fixtures)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile: through SQLAlchemy and on the driver's cursor."""
    seen: list[str] = []

    def orm(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    original = lms.driver_statements._cursor

    def driver(connection, compiled, parameters):
        seen.append(compiled.sql)
        return original(connection, compiled, parameters)

    event.listen(db.engine, "before_cursor_execute", orm)
    lms.driver_statements._cursor = driver
    try:
        yield seen
    finally:
        lms.driver_statements._cursor = original
        event.remove(db.engine, "before_cursor_execute", orm)


def test_a_stored_download_reads_once_and_records_its_event(app, certified, client, login_as):
    agent, award = certified["agent"], certified["award"]
    login_as(agent)
    first = client.get(f"/awards/{award.id}/certificate.pdf")  # renders and stores
    assert first.status_code == 200
    with statements() as seen:
        again = client.get(f"/awards/{award.id}/certificate.pdf")
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["Content-Disposition"] == f'attachment; filename="certificate-{award.verification_code[:8]}.pdf"'
    certificate = db.session.scalars(select(Certificate)).one()
    assert again.headers["X-Content-SHA256"] == certificate.sha256
    assert again.headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in again.headers["Content-Security-Policy"]
    # The session's user; the award with its stored certificate; the event and its personal
    # row (one statement on PostgreSQL, two on SQLite). Nothing is read after the commit.
    selects = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    inserts = [sql for sql in seen if "audit_" in sql and "INSERT" in sql.upper()]
    assert len(selects) == 2, seen
    assert len(seen) == len(selects) + len(inserts) <= 4, seen
    downloaded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.downloaded")
                                    .order_by(AuditEvent.seq.desc())).first()
    assert (downloaded.actor_id, downloaded.target_type, downloaded.target_id, downloaded.data) == (
        agent.id, "certificate", str(certificate.id), {"award_id": award.id})
    assert (downloaded.actor_label, downloaded.ip, downloaded.subject_label) == (agent.email, "127.0.0.1", "")


def test_staff_download_is_decided_by_the_policy_and_recorded_as_theirs(app, certified):
    from lms.accounts.models import Role
    from tests import factories
    from tests.conftest import login

    trainer = factories.user(Role.TRAINER)
    outsider = factories.user(Role.AGENT, certified["partner"])
    db.session.commit()
    clients = {}
    for person in (outsider, trainer):
        clients[person.id] = app.test_client()
        login(clients[person.id], person.email, factories.PASSWORD)
    path = f"/awards/{certified['award'].id}/certificate.pdf"
    assert clients[outsider.id].get(path).status_code == 404
    assert clients[outsider.id].get("/awards/999999/certificate.pdf").status_code == 404
    response = clients[trainer.id].get(path)
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    actors = list(db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "certificate.downloaded")))
    assert actors == [trainer.id]
