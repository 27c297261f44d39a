"""erasure under a pseudonym and restriction: user.erased_at, user.restricted_at, certificate.pdf nullable

Revision ID: e5f6a7b8c913
Revises: d4e5f6a7b812
Create Date: 2026-12-05 19:30:00.000000

An erased person's stored certificate PDFs (which carry their name) are deleted; the row
keeps the SHA-256 and key id, so a copy the person kept still verifies by upload.
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'e5f6a7b8c913'
down_revision = 'd4e5f6a7b812'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', lms.clock.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('restricted_at', lms.clock.UTCDateTime(), nullable=True))
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    # A downgrade cannot bring deleted PDFs back: those certificates' rows go with them.
    op.execute("DELETE FROM certificate WHERE pdf IS NULL")
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('restricted_at')
        batch_op.drop_column('erased_at')
