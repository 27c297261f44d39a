"""Migration 0b3a9e1c7d42 adds the open_badge table, and takes it away again on downgrade."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from lms.extensions import db
from tests.conftest import app_at_revision

REVISION = "0b3a9e1c7d42"
SHA256_REVISION = "1c4b8f2d9e53"
PREVIOUS = "f1a2b3c4d520"


def test_the_open_badge_table_goes_up_and_down(tmp_path):
    with app_at_revision(PREVIOUS, tmp_path):
        assert "open_badge" not in inspect(db.engine).get_table_names()
        upgrade(revision=REVISION)
        inspector = inspect(db.engine)
        columns = {column["name"] for column in inspector.get_columns("open_badge")}
        assert columns == {"id", "award_id", "credential_uuid", "jwt", "key_id", "status_list", "status_index",
                           "created_at"}
        unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("open_badge")}
        assert {("award_id",), ("credential_uuid",), ("status_list", "status_index")} <= unique
        downgrade(revision=PREVIOUS)
        assert "open_badge" not in inspect(db.engine).get_table_names()
        upgrade(revision=REVISION)
        assert "open_badge" in inspect(db.engine).get_table_names()




def _awards(count: int) -> list[int]:
    """Awards made through today's models (the database is at head)."""
    from datetime import datetime, timezone

    from lms.accounts.models import Role
    from lms.certification.models import Award
    from tests import factories
    from tests.certification.conftest import make_programme

    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    agent = factories.user(Role.AGENT, factories.organisation("Atlas Care"))
    programme = make_programme()
    awards = [Award(user_id=agent.id, programme_id=programme.id, programme_version_id=programme.current_version_id,
                    issued_at=at, valid_until=at, window_opens_at=at, grace_until=at, verification_code=f"code-{n}",
                    evidence={}) for n in range(count)]
    db.session.add_all(awards)
    db.session.flush()
    return [award.id for award in awards]


def test_an_erased_badge_keeps_its_sha256_and_a_downgrade_backfills_nothing_it_cannot(tmp_path):
    import hashlib

    from sqlalchemy import text

    from lms.credentials.models import OpenBadge

    with app_at_revision("heads", tmp_path):
        kept, erased = _awards(2)
        db.session.add_all([
            OpenBadge(award_id=kept, credential_uuid="kept", jwt="a.b.c", sha256="0" * 64, key_id="k",
                      status_list=1, status_index=kept),
            OpenBadge(award_id=erased, credential_uuid="erased", jwt=None, sha256="1" * 64, key_id="k",
                      status_list=1, status_index=erased)])
        db.session.commit()
        downgrade(revision=REVISION)
        rows = db.session.execute(text("SELECT credential_uuid, jwt FROM open_badge")).all()
        assert [tuple(row) for row in rows] == [("kept", "a.b.c")]  # an erased badge cannot come back
        db.session.commit()
        upgrade(revision=SHA256_REVISION)
        assert db.session.execute(text("SELECT sha256 FROM open_badge")).scalar_one() == \
            hashlib.sha256(b"a.b.c").hexdigest()
