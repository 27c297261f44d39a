"""The SCIM migration creates its tables and takes them away again."""
from __future__ import annotations

from flask_migrate import downgrade
from sqlalchemy import inspect

from lms.extensions import db
from tests.conftest import app_at_revision

TABLES = {"scim_token", "scim_group", "scim_group_member"}


def test_scim_migration_up_and_down(tmp_path):
    with app_at_revision("b5d8e1f3a627", tmp_path):
        assert TABLES <= set(inspect(db.engine).get_table_names())
        columns = {c["name"] for c in inspect(db.engine).get_columns("scim_token")}
        assert {"secret_hash", "expires_at", "revoked_at", "organisation_id"} <= columns
        downgrade(revision="-1")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        assert "user" in inspect(db.engine).get_table_names()
