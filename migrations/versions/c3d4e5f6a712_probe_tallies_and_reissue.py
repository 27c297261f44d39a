"""probe tallies for the audit log; re-issued certificates

Revision ID: c3d4e5f6a712
Revises: b2c3d4e5f612
Create Date: 2026-12-05 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'c3d4e5f6a712'
down_revision = 'b2c3d4e5f612'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reissued_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_award_reissued_from_id_award'), 'award', ['reissued_from_id'], ['id'])


def downgrade():
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_award_reissued_from_id_award'), type_='foreignkey')
        batch_op.drop_column('reissued_from_id')
