"""The Alembic migrations build exactly the schema the models describe."""
from __future__ import annotations

import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from lms.extensions import db
from tests.conftest import POSTGRES_URL, make_app


def test_models_and_migrations_agree(tmp_path):
    url = POSTGRES_URL or f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if POSTGRES_URL:  # start from an empty schema; the fixture rebuilds its own afterwards
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                    db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    if POSTGRES_URL:
        import tests.conftest as conftest
        conftest._schema_ready = False
