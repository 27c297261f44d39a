"""open badges: each award's Open Badges 3.0 credential (VC-JWT) and its place in a status list

Revision ID: 0b3a9e1c7d42
Revises: f1a2b3c4d520
Create Date: 2026-12-05 22:40:00.000000

A new table only: awards from before it get their badge when first downloaded.
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = '0b3a9e1c7d42'
down_revision = 'f1a2b3c4d520'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'open_badge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('award_id', sa.Integer(), nullable=False),
        sa.Column('credential_uuid', sa.String(length=36), nullable=False),
        sa.Column('jwt', sa.Text(), nullable=False),
        sa.Column('key_id', sa.String(length=100), nullable=False),
        sa.Column('status_list', sa.Integer(), nullable=False),
        sa.Column('status_index', sa.Integer(), nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_open_badge_award_id_award')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_open_badge')),
        sa.UniqueConstraint('award_id', name=op.f('uq_open_badge_award_id')),
        sa.UniqueConstraint('credential_uuid', name=op.f('uq_open_badge_credential_uuid')),
        sa.UniqueConstraint('status_list', 'status_index', name=op.f('uq_open_badge_status_list')),
    )


def downgrade():
    op.drop_table('open_badge')
