"""second factors: TOTP, recovery codes, passkeys; MFA per organisation

Revision ID: b2c3d4e5f612
Revises: a1b2c3d4e512
Create Date: 2026-12-05 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'b2c3d4e5f612'
down_revision = 'a1b2c3d4e512'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('second_factor')
