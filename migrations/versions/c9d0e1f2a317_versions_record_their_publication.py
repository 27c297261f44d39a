"""content versions record their publication in the browser (who, when, material change)

Revision ID: c9d0e1f2a317
Revises: b8c9d0e1f216
Create Date: 2026-12-05 20:40:00.000000

Loading the content files keeps a version a trainer published in the browser. That used to be
decided by reading the `content.published` audit events back; business state now lives on the
version row, and this migration copies it there from those events (the latest per version).
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'c9d0e1f2a317'
down_revision = 'b8c9d0e1f216'
branch_labels = None
depends_on = None

_TABLES = {"courseversion": "course_version", "quizversion": "quiz_version", "programmeversion": "programme_version"}


def upgrade():
    for table in _TABLES.values():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('published_at', lms.clock.UTCDateTime(), nullable=True))
            batch_op.add_column(sa.Column('published_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('material_change', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
            batch_op.create_foreign_key(f'fk_{table}_published_by_id_user', 'user', ['published_by_id'], ['id'])
    events = sa.table("audit_event", sa.column("seq", sa.Integer), sa.column("action", sa.String),
                      sa.column("target_type", sa.String), sa.column("target_id", sa.String),
                      sa.column("actor_id", sa.Integer), sa.column("occurred_at", lms.clock.UTCDateTime()),
                      sa.column("data", sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.target_type, events.c.target_id, events.c.actor_id,
                                        events.c.occurred_at, events.c.data)
                              .where(events.c.action == "content.published").order_by(events.c.seq))
    for target_type, target_id, actor_id, occurred_at, data in rows.all():  # the latest per version wins
        table_name = _TABLES.get(target_type)
        if table_name is None or not str(target_id).isdigit():
            continue
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("published_at", lms.clock.UTCDateTime()),
                         sa.column("published_by_id", sa.Integer), sa.column("material_change", sa.Boolean))
        connection.execute(table.update().where(table.c.id == int(target_id)).values(
            published_at=occurred_at, published_by_id=actor_id,
            material_change=bool((data or {}).get("material_change"))))


def downgrade():
    for table in _TABLES.values():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_published_by_id_user', type_='foreignkey')
            batch_op.drop_column('material_change')
            batch_op.drop_column('published_by_id')
            batch_op.drop_column('published_at')
