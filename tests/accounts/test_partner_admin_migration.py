"""Migration a9e4c2d7b351 (#15) up and down with data: employee ids, teams, partner admins."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import exc, inspect, text

from lms.extensions import db
from tests.conftest import app_at_revision

REVISION, PREVIOUS = "a9e4c2d7b351", "1c4b8f2d9e53"


def test_up_and_down_with_data(tmp_path):
    with app_at_revision(PREVIOUS, tmp_path):
        db.session.execute(text("INSERT INTO organisation (id, name, kind, country, contract_reference, contact_email, "
                                "mfa_required_roles, xapi_identify_by_email, created_at) VALUES "
                                "(1, 'Atlas', 'partner', 'MA', '', '', '', false, CURRENT_TIMESTAMP)"))
        for n in (1, 2):
            db.session.execute(text("INSERT INTO \"user\" (id, email, name, role, organisation_id, active, created_at) "
                                    f"VALUES ({n}, 'p{n}@atlas.example', 'P{n}', 'agent', 1, true, CURRENT_TIMESTAMP)"))
        db.session.commit()
        upgrade(revision=REVISION)
        columns = {c["name"] for c in inspect(db.engine).get_columns("user")}
        assert {"employee_id", "team"} <= columns
        assert "programme_availability" in inspect(db.engine).get_table_names()
        db.session.execute(text("UPDATE \"user\" SET employee_id = 'AT-1', team = 'Billing' WHERE id = 1"))
        db.session.execute(text("UPDATE \"user\" SET role = 'partner_admin' WHERE id = 2"))
        db.session.commit()
        with pytest.raises(exc.IntegrityError):  # unique per organisation, in the database too
            db.session.execute(text("UPDATE \"user\" SET employee_id = 'AT-1' WHERE id = 2"))
        db.session.rollback()
        downgrade(revision=PREVIOUS)
        assert not {"employee_id", "team"} & {c["name"] for c in inspect(db.engine).get_columns("user")}
        assert "programme_availability" not in inspect(db.engine).get_table_names()
        # The older code knows no partner admins: that account is an inactive agent now.
        assert db.session.execute(text("SELECT role, active FROM \"user\" WHERE id = 2")).one() == ("agent", False)
        db.session.commit()
