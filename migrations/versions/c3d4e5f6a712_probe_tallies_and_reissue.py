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
    op.create_table('probe_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('route', sa.String(length=100), nullable=False),
    sa.Column('actor_key', sa.String(length=80), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('minute', lms.clock.UTCDateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_path', sa.String(length=300), nullable=False),
    sa.Column('recorded_at', lms.clock.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_probe_tally_actor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_tally')),
    sa.UniqueConstraint('actor_key', 'kind', 'route', 'minute', name=op.f('uq_probe_tally_actor_key'))
    )
    with op.batch_alter_table('probe_tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probe_tally_recorded_at'), ['recorded_at'], unique=False)

    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reissued_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_award_reissued_from_id_award'), 'award', ['reissued_from_id'], ['id'])


def downgrade():
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_award_reissued_from_id_award'), type_='foreignkey')
        batch_op.drop_column('reissued_from_id')
    with op.batch_alter_table('probe_tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probe_tally_recorded_at'))
    op.drop_table('probe_tally')
