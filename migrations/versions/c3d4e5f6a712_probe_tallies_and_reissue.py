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
    pass


def downgrade():
    pass
