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
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', lms.clock.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('idle_expires_at', lms.clock.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_seen_at', lms.clock.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('remember', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=300), server_default='', nullable=False))
    # Sessions from before expiry existed: their time is up, so everyone signs in again once.
    op.execute("UPDATE login_session SET expires_at = created_at, idle_expires_at = created_at, "
               "last_seen_at = created_at")
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=lms.clock.UTCDateTime(), nullable=False)
        batch_op.alter_column('idle_expires_at', existing_type=lms.clock.UTCDateTime(), nullable=False)
        batch_op.alter_column('last_seen_at', existing_type=lms.clock.UTCDateTime(), nullable=False)
        batch_op.alter_column('remember', existing_type=sa.Boolean(), server_default=None)
        batch_op.alter_column('user_agent', existing_type=sa.String(length=300), server_default=None)

    with op.batch_alter_table('set_password_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='set', nullable=False))
        batch_op.add_column(sa.Column('opened_at', lms.clock.UTCDateTime(), nullable=True))
    with op.batch_alter_table('set_password_token', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=10), server_default=None)


def downgrade():
    with op.batch_alter_table('set_password_token', schema=None) as batch_op:
        batch_op.drop_column('opened_at')
        batch_op.drop_column('kind')
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('user_agent')
        batch_op.drop_column('remember')
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('idle_expires_at')
        batch_op.drop_column('expires_at')
