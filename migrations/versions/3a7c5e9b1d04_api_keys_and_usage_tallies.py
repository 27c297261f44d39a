"""API keys for integrations (hashed secrets, scopes, an organisation) and per-minute tallies of their use (#16)

Revision ID: 3a7c5e9b1d04
Revises: e8f9a0b1c215
Create Date: 2026-12-05 22:51:30.413240

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = '3a7c5e9b1d04'
down_revision = 'e8f9a0b1c215'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('rotated_at', lms.clock.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', lms.clock.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', lms.clock.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_api_key_created_by_id_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_api_key_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('api_usage_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('minute', lms.clock.UTCDateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('recorded_at', lms.clock.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_api_usage_tally_api_key_id_api_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_usage_tally')),
    sa.UniqueConstraint('api_key_id', 'route', 'status', 'minute', name='uq_api_usage_tally_minute')
    )
    with op.batch_alter_table('api_usage_tally', schema=None) as batch_op:
        batch_op.create_index('ix_api_usage_tally_pending', ['recorded_at', 'minute'], unique=False)



def downgrade():
    with op.batch_alter_table('api_usage_tally', schema=None) as batch_op:
        batch_op.drop_index('ix_api_usage_tally_pending')

    op.drop_table('api_usage_tally')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_organisation_id'))

    op.drop_table('api_key')
