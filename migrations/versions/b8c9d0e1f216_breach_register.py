"""breach register (Art. 33(5))

Revision ID: b8c9d0e1f216
Revises: a7b8c9d0e115
Create Date: 2026-12-06 11:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f216'
down_revision = 'a7b8c9d0e115'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'breach',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('occurred_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('aware_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('subject_categories', sa.String(length=400), nullable=False),
        sa.Column('subjects_approx', sa.Integer(), nullable=True),
        sa.Column('record_categories', sa.String(length=400), nullable=False),
        sa.Column('records_approx', sa.Integer(), nullable=True),
        sa.Column('consequences', sa.Text(), nullable=False),
        sa.Column('measures', sa.Text(), nullable=False),
        sa.Column('authority_notified_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('authority_delay_reason', sa.Text(), nullable=False),
        sa.Column('authority_not_required_reason', sa.Text(), nullable=False),
        sa.Column('subjects_informed_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('subjects_not_informed_reason', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('open', 'closed', name='breachstatus', native_enum=False, length=10),
                  nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('updated_at', lms.clock.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breach_aware_at'), ['aware_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_recorded_by_id'), ['recorded_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_breach_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('breach', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breach_status'))
        batch_op.drop_index(batch_op.f('ix_breach_recorded_by_id'))
        batch_op.drop_index(batch_op.f('ix_breach_aware_at'))
    op.drop_table('breach')
