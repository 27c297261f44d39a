"""attempts record a critical failure (a critical reply in a call simulation)

Revision ID: d1e2f3a4b518
Revises: c9d0e1f2a317
Create Date: 2026-12-05 21:45:00.000000

A critical reply in a call simulation fails the attempt whatever its percent, and certification
must not count such an attempt. Attempts graded before critical replies existed had none, so
false is right for every existing row.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1e2f3a4b518'
down_revision = 'c9d0e1f2a317'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('critical_failure', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('critical_failure')
