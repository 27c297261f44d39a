"""The audit log as people read it (#19): a sentence per event with the recorded facts folded
beneath, filters by person, organisation, action and days, a CSV of what is filtered, and a
partner's auditor seeing what happened to their organisation's people, not only what they did."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from lms import clock
from lms.accounts.models import Role
from lms.audit_pages import sentences
from lms.audit.models import AuditEvent
from lms.audit.services import erase_personal_data, record
from lms.extensions import db
from tests import factories
from tests.staff_world import AT, World, build, world  # noqa: F401 (fixture)
from tests.test_main_home import text


def said(event: AuditEvent) -> str:
    return sentences.sentence(event, sentences.names_for([event]))


def listed(client, query: str = "") -> list[str]:
    """The sentences of the log's page, newest first."""
    html = client.get(f"/audit/{query}").get_data(as_text=True)
    return [" ".join(s.split()) for s in re.findall(r'<td>([^<]*)\s*<details><summary>Recorded details', html)]


# ---- sentences -----------------------------------------------------------------------------

def test_events_read_as_sentences_naming_who_and_whom(world):
    assert said(db.session.get(AuditEvent, world.download_event)) == \
        "Aoife Admin downloaded the certificate of Carla Expiring"
    own = record("certificate.downloaded", actor=world.carla, target_type="certificate", target_id=41,
                 award_id=world.carla_award.id)
    assert said(own) == "Carla Expiring downloaded their certificate"
    role = record("user.role_changed", actor=world.admin, target=world.bruno,
                  changes={"role": ["agent", "trainer"]})
    assert said(role) == "Aoife Admin changed the role of Bruno Soon from agent to trainer"
    assert said(record("auth.login_failed", actor_label="someone@typo.example")) == "A sign-in as someone@typo.example failed"
    assert said(record("auth.login", actor=world.trainer, method="sso")) == "Tomás Trainer signed in with single sign-on"
    assert said(record("retention.applied")) == "The system deleted what the retention periods allow"
    assigned = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "assignment.created")
                                  .order_by(AuditEvent.seq)).first()
    assert said(assigned) == "Aoife Admin assigned recording-cert to Ana Overdue"


def test_an_action_without_words_gets_a_generic_sentence(world):
    assert said(record("reports.widget_exploded", actor=world.admin)) == "Aoife Admin: reports widget exploded"
    assert said(record("user.teleported", actor=world.admin, target=world.ana)) == "Aoife Admin: user teleported"


def test_every_family_the_app_records_has_its_words():
    source = "\n".join(p.read_text() for p in Path(sentences.__file__).parents[1].rglob("*.py"))
    families = {action.split(".")[0] for action in re.findall(r'record\(\s*"([a-z_]+\.[a-z_.]+)"', source)}
    assert families and families - set(sentences.FAMILIES) == set()


def test_an_erased_actor_is_named_by_their_pseudonym(world):
    event = record("auth.login", actor=world.bruno)
    db.session.commit()
    erase_personal_data(world.bruno.id)
    db.session.commit()
    assert said(db.session.get(AuditEvent, event.seq)) == f"Erased person P-{world.bruno.id:04X} signed in"


# ---- the page, its filters and its CSV --------------------------------------------------------

def test_the_page_folds_the_recorded_details_under_each_sentence(world, client, login_as):
    login_as(world.admin)
    html = client.get("/audit/").get_data(as_text=True)
    row = re.search(rf'<tr><td><a href="/audit/events/{world.download_event}".*?</tr>', html, re.S).group(0)
    assert "Aoife Admin downloaded the certificate of Carla Expiring" in row
    details = text(re.search(r"<details>.*?</details>", row, re.S).group(0))
    assert details.startswith("Recorded details Action certificate.downloaded Who " + world.admin.email)
    assert f'"award_id": {world.carla_award.id}' in details
    assert 'class="table-scroll tall" tabindex="0" role="region" aria-labelledby="events-caption"' in html


def test_filters_by_person_organisation_action_and_days(world, client, login_as):
    login_as(world.admin)
    about_carla = listed(client, "?person=carla")
    assert "Aoife Admin downloaded the certificate of Carla Expiring" in about_carla  # done to her
    assert "Aoife Admin assigned recording-cert to Carla Expiring" in about_carla
    assert not [s for s in about_carla if "Duarte" in s or "Ana" in s]
    lisboa = listed(client, f"?organisation={world.lisboa.id}")
    assert "Aoife Admin changed the details of Duarte Certified" in lisboa
    assert not [s for s in lisboa if "Carla" in s]
    assert listed(client, "?action=user.") == ["Aoife Admin changed the details of Duarte Certified"]
    assert listed(client, f"?action=user.&organisation={world.atlas.id}") == []


def test_days_are_the_readers(world, client, login_as):
    clock.set_now(datetime(2026, 1, 6, 23, 30, tzinfo=timezone.utc))  # 7 January in Auckland
    record("auth.logout", actor=world.bruno)
    db.session.commit()
    world.admin.time_zone = "Pacific/Auckland"
    db.session.commit()
    login_as(world.admin)
    assert listed(client, "?action=auth.logout&from=2026-01-07&to=2026-01-07") == ["Bruno Soon signed out"]
    assert listed(client, "?action=auth.logout&from=2026-01-06&to=2026-01-06") == []
    html = client.get("/audit/?from=2026-01-06").get_data(as_text=True)
    assert "Days in your time zone, Pacific/Auckland; both days included." in html


def test_the_csv_has_the_filtered_events_safe_for_spreadsheets_and_is_audited(world, client, login_as, monkeypatch):
    record("auth.login_failed", actor_label="=HYPERLINK(\"http://x\")")
    for person in (world.ana, world.bruno, world.carla):
        record("auth.login", actor=person)
    db.session.commit()
    monkeypatch.setattr("lms.audit_pages.views.CSV_BATCH", 2)  # several batches, in order, none twice
    login_as(world.admin)
    response = client.get("/audit/events.csv?action=auth.login")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == ["Event", "When (UTC)", "What happened", "Who (as recorded)", "About (as recorded)",
                       "IP address", "Action", "Target", "Details"]
    seqs = [int(row[0]) for row in rows[1:]]
    expected = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.action.startswith("auth.login"))
                                  .order_by(AuditEvent.seq.desc())).all()
    assert seqs == expected and len(seqs) == 5
    failed = next(row for row in rows if row[6] == "auth.login_failed")
    assert failed[3] == "'=HYPERLINK(\"http://x\")"  # starts with a quote: text, not a formula
    assert failed[2] == "A sign-in as =HYPERLINK(\"http://x\") failed"
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@"))]
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.csv")).one()
    assert exported.actor_id == world.admin.id and exported.data["what"] == "audit log"
    assert exported.data["filters"] == {"action": "auth.login"}


# ---- a partner's auditor ----------------------------------------------------------------------

def test_a_scoped_auditor_sees_what_was_done_to_their_people(world, client, login_as):
    login_as(world.scoped)
    html = client.get("/audit/").get_data(as_text=True)
    assert "You see the events about <strong>Atlas Care</strong>" in html
    seen = listed(client)
    assert "Aoife Admin downloaded the certificate of Carla Expiring" in seen  # by HQ, about Atlas
    assert "Aoife Admin assigned recording-cert to Ana Overdue" in seen
    assert not [s for s in seen if "Duarte" in s or "Bruno" in s]
    assert client.get(f"/audit/events/{world.download_event}").status_code == 200
    assert client.get(f"/audit/events/{world.update_event}").status_code == 404
    body = client.get("/audit/events.csv").get_data(as_text=True)
    assert "Carla Expiring" in body and "Duarte" not in body and "Bruno" not in body
    # Asking for the other partner gives nothing of it, and says why.
    html = client.get(f"/audit/?organisation={world.lisboa.id}").get_data(as_text=True)
    assert "No events match these filters. Only events about Atlas Care can match." in text(html)


def test_a_scoped_auditor_with_nothing_yet_is_told_what_they_will_see(app, client, login_as):
    quiet = factories.organisation("Quiet Partner")
    auditor = factories.user(Role.AUDITOR, scope=quiet)
    db.session.commit()
    login_as(auditor)
    page = text(client.get("/audit/").get_data(as_text=True))
    assert "Nothing has been recorded about Quiet Partner yet." in page
    assert "what is done to their accounts and the exports about it will appear here" in page
