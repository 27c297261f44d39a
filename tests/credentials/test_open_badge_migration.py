"""Migration 0b3a9e1c7d42 adds the open_badge table, and takes it away again on downgrade."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from lms.extensions import db
from tests.conftest import app_at_revision

REVISION = "0b3a9e1c7d42"
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
