"""A small company for the staff pages' tests (#19): the home pages, the dashboard and the audit log.

Two partners; one agent in each state that matters (overdue in one programme while not started in
another, due this week, expiring, certified); staff of every role, a scoped auditor and a partner
admin of Atlas; a draft, exports, messages in each outbox and audit events by and about people.
Everything is dated from AT, so the tests fix the clock there (lms.clock.set_now(AT)).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import count
from uuid import uuid4

import pytest
from flask import Flask

from lms import clock
from lms.accounts.models import Organisation, OrganisationKind, Role, User
from lms.audit.services import record
from lms.authoring.drafts import new_draft
from lms.certification import services
from lms.certification.models import Award, Programme
from lms.evidence.exports import EVIDENCE_PACK
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.reminders.models import Message, MessageKind
from lms.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from lms.xapi.models import OutboxState, XapiStatement
from tests import factories

AT = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
# 23:00 UTC on 2 January: already 3 January in Auckland (UTC+13 then), a reader's zone the tests use.
ANA_DUE = datetime(2026, 1, 2, 23, 0, tzinfo=timezone.utc)
_more = count(1)


@dataclass
class World:
    atlas: Organisation
    lisboa: Organisation
    admin: User
    trainer: User
    auditor: User
    scoped: User  # an auditor of Atlas Care
    partner_admin: User  # Atlas Care's
    recorded: Programme
    cards: Programme
    ana: User  # Atlas: overdue in recorded (ANA_DUE), not started in cards
    bruno: User  # Lisboa: recorded due in 2 days
    carla: User  # Atlas: certified in recorded, expiring in 10 days
    duarte: User  # Lisboa: certified in recorded, a month ago
    carla_award: Award
    download_event: int  # the admin downloads Carla's certificate (about Atlas)
    update_event: int  # the admin edits Duarte (about Lisboa)


def _expiring(agent: User, programme: Programme, at: datetime, days: int) -> Award:
    """An award whose certificate ends `days` after `at` (in its renewal window by then)."""
    issued = at + timedelta(days=days) - 12 * services.MONTH
    return factories.award(agent, programme, issued)


def build(at: datetime = AT) -> World:
    """The company, flushed (the caller commits)."""
    hq = factories.organisation("CallSafe HQ", kind=OrganisationKind.CLIENT)
    atlas, lisboa = factories.organisation("Atlas Care"), factories.organisation("Lisboa CS")
    admin = factories.user(Role.ADMIN, hq, name="Aoife Admin")
    trainer = factories.user(Role.TRAINER, hq, name="Tomás Trainer")
    auditor = factories.user(Role.AUDITOR, hq, name="Fiona Auditor")
    scoped = factories.user(Role.AUDITOR, hq, name="Karim Scoped", scope=atlas)
    partner_admin = factories.user(Role.PARTNER_ADMIN, atlas, name="Salma Partner")
    recorded = factories.programme("recording-cert", title="Recorded lines certification")
    cards = factories.programme("card-cert", title="Card payments")

    ana = factories.user(Role.AGENT, atlas, name="Ana Overdue")
    services.assign(admin, recorded, user=ana, due_at=ANA_DUE)
    services.assign(admin, cards, user=ana, due_at=at + timedelta(days=20))
    bruno = factories.user(Role.AGENT, lisboa, name="Bruno Soon")
    services.assign(admin, recorded, user=bruno, due_at=at + timedelta(days=2))
    carla = factories.user(Role.AGENT, atlas, name="Carla Expiring")
    services.assign(admin, recorded, user=carla, due_at=at - timedelta(days=300))
    carla_award = _expiring(carla, recorded, at, 10)
    duarte = factories.user(Role.AGENT, lisboa, name="Duarte Certified")
    services.assign(admin, recorded, user=duarte, due_at=at + timedelta(days=60))
    factories.award(duarte, recorded, at - timedelta(days=30))

    new_draft("programme", "card-refresher", trainer,
              {"programmes/card-refresher.yaml": "title: Card refresher\ndescription: x\nrequirements: []\n"})
    new_draft("programme", "admins-own", admin, {"programmes/admins-own.yaml": "title: The admin's own draft\n"})
    db.session.add_all([
        Job(kind=EVIDENCE_PACK, requested_by_id=scoped.id, organisation_id=atlas.id, state=JobState.SUCCEEDED, params={}),
        Job(kind=EVIDENCE_PACK, requested_by_id=admin.id, organisation_id=lisboa.id, state=JobState.FAILED, params={}),
    ])
    _outboxes(ana, at)
    download = record("certificate.downloaded", actor=admin, target_type="certificate", target_id=41,
                      award_id=carla_award.id)
    update = record("user.updated", actor=admin, target=duarte, subject_label=duarte.email, changes={"team": [None, "B"]})
    db.session.flush()
    return World(atlas, lisboa, admin, trainer, auditor, scoped, partner_admin, recorded, cards,
                 ana, bruno, carla, duarte, carla_award, download.seq, update.seq)


def _outboxes(agent: User, at: datetime) -> None:
    """One reminder waiting and one failed; one webhook delivery failed; one xAPI statement waiting."""
    endpoint = WebhookEndpoint(url="https://crm.example/hooks", description="CRM", event_types="award.issued",
                               secret_encrypted="not used here")
    event = WebhookEvent(message_id="msg_1", type="award.issued", data={}, occurred_at=at)
    db.session.add_all([
        Message(kind=MessageKind.OVERDUE, recipient="a@example.org", subject="s", body="b", dedupe_key="waiting"),
        Message(kind=MessageKind.OVERDUE, recipient="b@example.org", subject="s", body="b", dedupe_key="failed",
                error="550 mailbox unavailable", attempts=1),
        endpoint, event, WebhookDelivery(endpoint=endpoint, event=event, state=DeliveryState.FAILED, attempts=3),
        XapiStatement(statement_id=str(uuid4()), user_id=agent.id, kind="quiz_attempted", statement={}, occurred_at=at,
                      state=OutboxState.QUEUED),
    ])


def more_agents(world: World, n: int, at: datetime = AT) -> None:
    """n more agents across both partners, in turn overdue, due this week, expiring and certified."""
    for i in range(n):
        number = next(_more)
        agent = factories.user(Role.AGENT, (world.atlas, world.lisboa)[i % 2], name=f"Extra Agent {number}")
        kind = i % 4
        due = {0: at - timedelta(days=5), 1: at + timedelta(days=3)}.get(kind, at + timedelta(days=90))
        services.assign(world.admin, world.recorded, user=agent, due_at=due)
        if kind == 2:
            _expiring(agent, world.recorded, at, 20)
        elif kind == 3:
            factories.award(agent, world.recorded, at - timedelta(days=10))


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    """The staff world, built at AT (the clock stands still there for the test)."""
    clock.set_now(AT)
    built = build()
    db.session.commit()
    yield built
    clock.set_now(None)
