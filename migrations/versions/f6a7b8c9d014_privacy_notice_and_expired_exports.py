"""privacy notice seen (user.privacy_notice_seen_at), export files expired (job.files_expired_at)

Revision ID: f6a7b8c9d014
Revises: e5f6a7b8c913
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'f6a7b8c9d014'
down_revision = 'e5f6a7b8c913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('privacy_notice_seen_at', lms.clock.UTCDateTime(), nullable=True))
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files_expired_at', lms.clock.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('files_expired_at')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('privacy_notice_seen_at')
