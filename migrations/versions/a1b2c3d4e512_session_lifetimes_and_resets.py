"""session lifetimes, remember tokens, password resets

Revision ID: a1b2c3d4e512
Revises: d3f5c2a8e914
Create Date: 2026-12-05 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e512'
down_revision = 'd3f5c2a8e914'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
