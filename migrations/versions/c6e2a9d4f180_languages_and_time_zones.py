"""Languages and time zones: a person's own choice and their organisation's default

Revision ID: c6e2a9d4f180
Revises: b5d8e1f3a627
Create Date: 2026-12-06 00:40:00.000000

Four nullable columns; None means "not chosen" (lms.i18n falls back in order).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6e2a9d4f180'
down_revision = 'b5d8e1f3a627'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('organisation', 'user'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('language', sa.String(length=10), nullable=True))
            batch.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    for table in ('organisation', 'user'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('time_zone')
            batch.drop_column('language')
