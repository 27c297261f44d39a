"""data-subject requests register

Revision ID: a7b8c9d0e115
Revises: f6a7b8c9d014
Create Date: 2026-12-05 19:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'a7b8c9d0e115'
down_revision = 'f6a7b8c9d014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('right', sa.Enum('access', 'rectification', 'erasure', 'restriction', 'objection', 'portability',
                                   name='right', native_enum=False, length=20), nullable=False),
        sa.Column('received_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('identity_check', sa.Text(), nullable=False),
        sa.Column('due_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('extension_reason', sa.Text(), nullable=True),
        sa.Column('state', sa.Enum('open', 'done', 'refused', name='requeststate', native_enum=False, length=10),
                  nullable=False),
        sa.Column('outcome', sa.Text(), nullable=True),
        sa.Column('closed_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('data_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_request_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_request_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_request_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('data_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_data_request_state'))
        batch_op.drop_index(batch_op.f('ix_data_request_due_at'))
    op.drop_table('data_request')
