"""country notes: the national rules of each country, from courses/_country-notes/

Revision ID: e2f3a4b5c619
Revises: d1e2f3a4b518
Create Date: 2026-12-05 22:00:00.000000

A new table only: the notes are loaded from the content files by `lms content load`.
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'e2f3a4b5c619'
down_revision = 'd1e2f3a4b518'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'country_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('references', sa.JSON(), nullable=False),
        sa.Column('lessons', sa.JSON(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('archived_at', lms.clock.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_country_note')),
        sa.UniqueConstraint('country', name=op.f('uq_country_note_country')),
    )


def downgrade():
    op.drop_table('country_note')
