"""Staff home pages (#19): each role lands on what it acts on, in its scope, with headline figures
that count agents (not enrolments), and at a cost in queries that does not grow with the agents."""
from __future__ import annotations

import re
from html import unescape
from zoneinfo import ZoneInfo

from babel.dates import format_date

from flask import Flask

from lms.accounts.models import Role
from lms.audit.services import record
from lms.certification.models import Enrolment
from lms.extensions import db
from tests import factories
from tests.conftest import login
from tests.evidence.test_certificate_download import statements
from tests.staff_world import AT, World, build, more_agents, world  # noqa: F401 (fixture)


def text(html: str) -> str:
    """What a reader sees: tags out, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, heading_id: str) -> str:
    """The text of the <section> a heading names (aria-labelledby), or "" when the page has none."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    return text(match.group(0)) if match else ""


def due_in_auckland(agent) -> str:
    """The date an agent's (only) programme is next due, as a reader in Auckland sees it."""
    enrolment = db.session.query(Enrolment).filter_by(user_id=agent.id).one()
    return format_date(enrolment.next_due_at.astimezone(ZoneInfo("Pacific/Auckland")).date(), "medium", locale="en_IE")


def home(client, login_as, user) -> str:
    login_as(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_trainer_sees_who_needs_chasing_this_week_with_dates_in_their_zone(world, client, login_as):
    world.trainer.time_zone = "Pacific/Auckland"
    db.session.commit()
    html = home(client, login_as, world.trainer)
    # Four agents, each once: Ana is overdue in one programme and not started in another.
    glance = section(html, "glance-heading")
    assert "50% of agents certified (2 of 4)" in glance
    assert "1 agent overdue" in glance and "1 agent whose certificate expires within 30 days" in glance
    chase = section(html, "chase-heading")
    # Ana was due at 23:00 UTC on 2 January: 3 January in Auckland.
    assert "Overdue 1 agent Agent Organisation Programme Was due Ana Overdue Atlas Care Recorded lines certification 3 Jan 2026" in chase
    assert "2 Jan 2026" not in chase
    bruno, carla = due_in_auckland(world.bruno), due_in_auckland(world.carla)
    assert f"Due in the next 7 days 1 agent Agent Organisation Programme Due Bruno Soon Lisboa CS Recorded lines certification {bruno}" in chase
    assert f"Expiring within 30 days 1 agent Agent Organisation Programme Expires Carla Expiring Atlas Care Recorded lines certification {carla}" in chase
    assert "Duarte Certified" not in chase and "Card payments" not in chase  # certified; due in 20 days
    assert f'href="/people/{world.ana.id}"' in html
    # The trainer's own draft, titled as its file says, one click from its editor; not the admin's.
    drafts = section(html, "drafts-heading")
    assert "Card refresher Programme · revision 1" in drafts and "admin's own" not in drafts
    assert 'href="/authoring/programme/card-refresher">Card refresher</a>' in html  # the programme form
    assert not section(html, "outbox-heading") and not section(html, "exports-heading")


def test_a_scoped_auditor_sees_their_organisation_only(world, client, login_as):
    record("auth.login", actor=world.partner_admin)  # an Atlas person's sign-in: routine, left out here
    db.session.commit()
    html = home(client, login_as, world.scoped)
    assert "Figures and lists for Atlas Care only." in text(html)
    assert "50% of agents certified (1 of 2)" in section(html, "glance-heading")  # Ana and Carla
    exports = section(html, "exports-heading")
    assert "Evidence pack" in exports and "Atlas Care" in exports and "Lisboa CS" not in exports
    events = section(html, "events-heading")
    # The admin's download is about Carla, an Atlas agent; the edit of Duarte is Lisboa's business.
    assert "Aoife Admin downloaded the certificate of Carla Expiring" in events
    assert "Duarte" not in events and "signed in" not in events
    assert not section(html, "chase-heading")  # auditors check; they do not chase


def test_an_admin_sees_outbox_health_exports_and_who_needs_chasing(world, client, login_as):
    html = home(client, login_as, world.admin)
    assert "50% of agents certified (2 of 4)" in section(html, "glance-heading")
    outbox = section(html, "outbox-heading")
    assert "Reminder e-mails : 1 waiting, 1 failed" in outbox
    assert "Webhook deliveries : 0 waiting, 1 failed" in outbox
    assert "xAPI statements : 1 waiting, 0 failed" in outbox
    assert "open an outbox to see the error" in outbox
    exports = section(html, "exports-heading")
    assert "Karim Scoped" in exports and "Aoife Admin" in exports and "Failed" in exports
    assert "Ana Overdue" in section(html, "chase-heading")
    assert not section(html, "drafts-heading")


def test_a_partner_admin_chases_their_own_agents(world, client, login_as):
    html = home(client, login_as, world.partner_admin)
    chase = section(html, "chase-heading")
    assert "Ana Overdue" in chase and "Carla Expiring" in chase and "Bruno Soon" not in chase
    assert "No exports yet." in section(html, "exports-heading")  # the scoped auditor's are not theirs


def test_empty_homes_say_what_will_appear(app, client, login_as):
    scope = factories.organisation("Quiet Partner")
    trainer = factories.user(Role.TRAINER)
    auditor = factories.user(Role.AUDITOR, scope=scope)
    db.session.commit()
    html = home(client, login_as, trainer)
    assert "No agent has a programme yet" in section(html, "glance-heading")
    assert "Nobody: no agent is overdue" in section(html, "chase-heading")
    assert "You have no draft open." in section(html, "drafts-heading")
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)})
    html = home(client, login_as, auditor)
    assert "Nothing has been recorded about Quiet Partner yet." in section(html, "events-heading")


ROLES = ("trainer", "auditor", "scoped", "admin", "partner_admin")


def _home_queries(app: Flask, world: World) -> dict[str, int]:
    """The statements each role's home runs (a second request: the first warms the caches)."""
    counts = {}
    for role in ROLES:
        client = app.test_client()
        assert login(client, getattr(world, role).email, factories.PASSWORD).status_code == 302
        client.get("/").get_data()
        with statements() as seen:
            response = client.get("/")
            assert response.status_code == 200
        counts[role] = len(seen)
    return counts


def _latest_events(world: World) -> None:
    """The same newest events before each measure (the home lists five; who they name decides
    whether their people are looked up), so only the number of agents differs."""
    for _ in range(5):
        record("certificate.downloaded", actor=world.admin, target_type="certificate", target_id=41,
               award_id=world.carla_award.id)
    db.session.commit()


def test_home_queries_do_not_grow_with_the_agents(app, world):
    more_agents(world, 4)
    _latest_events(world)
    small = _home_queries(app, world)
    more_agents(world, 8)  # three times as many extra agents, and more than a list shows
    _latest_events(world)
    large = _home_queries(app, world)
    assert small == large, (small, large)
    assert max(large.values()) <= 16, large
