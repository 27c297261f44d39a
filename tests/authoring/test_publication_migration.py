"""The migration that moves "published in the browser" from the audit log onto the version rows."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_migrate import upgrade
from sqlalchemy import JSON, Integer, String, column, table, text

from lms.clock import UTCDateTime
from lms.extensions import db
from tests.conftest import app_at_revision

BEFORE = "b8c9d0e1f216"  # the last revision that read it from the audit log
AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


EVENTS = table("audit_event", column("seq", Integer), column("occurred_at", UTCDateTime()), column("actor_id", Integer),
               column("action", String), column("target_type", String), column("target_id", String),
               column("data", JSON), column("commitment", String), column("xid", Integer))


def _event(seq: int, version_id: int, actor_id: int, material: bool) -> dict:
    return {"seq": seq, "occurred_at": AT.replace(hour=10 + seq), "actor_id": actor_id, "action": "content.published",
            "target_type": "courseversion", "target_id": str(version_id), "commitment": "0" * 64, "xid": 0,
            "data": {"kind": "course", "slug": "c", "material_change": material}}


def test_versions_published_in_the_browser_keep_who_and_when(tmp_path):
    with app_at_revision(BEFORE, tmp_path):
        run = db.session.execute
        run(text("INSERT INTO organisation (id, name, kind, country, contract_reference, contact_email, "
                 "mfa_required_roles, created_at) VALUES (1, 'Org', 'client', 'IE', '', '', '', :at)"), {"at": AT})
        run(text('INSERT INTO "user" (id, email, name, role, organisation_id, active, created_at) '
                 "VALUES (7, 't@example.org', 'Tess Trainer', 'trainer', 1, :yes, :at)"), {"at": AT, "yes": True})
        run(text("INSERT INTO course (id, slug) VALUES (1, 'c')"))
        for version_id in (1, 2, 3):
            run(text("INSERT INTO course_version (id, course_id, content_hash, title, summary, audience, "
                     "estimated_minutes, phases, key_points, created_at) VALUES "
                     "(:id, 1, :hash, 'T', '', '', 5, '[]', '[]', :at)"), {"id": version_id, "hash": str(version_id) * 64,
                                                                          "at": AT})
        # Version 2 was published twice (the later one a material change); version 3 came from the files.
        run(EVENTS.insert(), [_event(1, 2, 7, False), _event(2, 1, 7, False), _event(3, 2, 7, True)])
        db.session.commit()

        upgrade()

        rows = {r.id: r for r in run(text("SELECT id, published_at, published_by_id, material_change "
                                          "FROM course_version ORDER BY id"))}
        assert rows[1].published_by_id == 7 and not rows[1].material_change
        assert rows[2].published_by_id == 7 and rows[2].material_change  # the latest publication wins
        assert str(rows[2].published_at)[:16] == str(AT.replace(hour=13, tzinfo=None))[:16]
        assert rows[3].published_at is None and rows[3].published_by_id is None
