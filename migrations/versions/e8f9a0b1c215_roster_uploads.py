"""roster import: the uploaded CSV files, kept so that applying uses exactly what was previewed

Revision ID: e8f9a0b1c215
Revises: a9e4c2d7b351
Create Date: 2026-12-05 23:05:00.000000

A new table only (lms/roster/models.py).
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'e8f9a0b1c215'
down_revision = 'a9e4c2d7b351'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'roster_upload',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('full_roster', sa.Boolean(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_roster_upload_job_id_job')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_roster_upload_uploaded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_upload')),
    )
    with op.batch_alter_table('roster_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_upload_uploaded_by_id'), ['uploaded_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('roster_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_upload_uploaded_by_id'))
    op.drop_table('roster_upload')
