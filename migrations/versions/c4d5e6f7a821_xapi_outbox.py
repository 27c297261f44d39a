"""xAPI outbox: xapi_statement, and organisation.xapi_identify_by_email

Revision ID: c4d5e6f7a821
Revises: 0b3a9e1c7d42
Create Date: 2026-12-05 22:05:00.000000

Statements are written with the learning events from now on; earlier events get none.
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'c4d5e6f7a821'
down_revision = '0b3a9e1c7d42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'xapi_statement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('statement', sa.JSON(), nullable=False),
        sa.Column('occurred_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('state', sa.Enum('queued', 'sending', 'delivered', 'failed', 'withheld', name='outboxstate',
                                   native_enum=False, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_try_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('claimed_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('delivered_at', lms.clock.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_xapi_statement_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_statement')),
        sa.UniqueConstraint('statement_id', name=op.f('uq_xapi_statement_statement_id')),
    )
    with op.batch_alter_table('xapi_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_xapi_statement_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_statement_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_statement_claim'), ['claim'], unique=False)
        batch_op.create_index('ix_xapi_statement_state_next_try_at', ['state', 'next_try_at'], unique=False)
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('xapi_identify_by_email', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('xapi_identify_by_email')
    op.drop_table('xapi_statement')
