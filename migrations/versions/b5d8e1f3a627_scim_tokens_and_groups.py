"""SCIM provisioning: bearer tokens per organisation, and the identity provider's groups

Revision ID: b5d8e1f3a627
Revises: 3a7c5e9b1d04
Create Date: 2026-12-05 23:00:00.000000

New tables only (lms/scim/models.py). Tokens are stored as the SHA-256 of their secret.
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'b5d8e1f3a627'
down_revision = '3a7c5e9b1d04'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scim_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('expires_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', lms.clock.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', lms.clock.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_scim_token_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_scim_token_created_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_token')),
        sa.UniqueConstraint('prefix', name=op.f('uq_scim_token_prefix')),
    )
    op.create_index(op.f('ix_scim_token_organisation_id'), 'scim_token', ['organisation_id'], unique=False)
    op.create_table(
        'scim_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=False),
        sa.Column('external_id', sa.String(length=200), nullable=True),
        sa.Column('role', sa.String(length=20), nullable=True),
        sa.Column('programme_id', sa.Integer(), nullable=True),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_scim_group_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_scim_group_programme_id_programme')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_group')),
        sa.UniqueConstraint('organisation_id', 'display_name', name='uq_scim_group_organisation_name'),
    )
    op.create_index(op.f('ix_scim_group_organisation_id'), 'scim_group', ['organisation_id'], unique=False)
    op.create_table(
        'scim_group_member',
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['scim_group.id'],
                                name=op.f('fk_scim_group_member_group_id_scim_group'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_scim_group_member_user_id_user')),
        sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_scim_group_member')),
    )
    op.create_index(op.f('ix_scim_group_member_user_id'), 'scim_group_member', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_scim_group_member_user_id'), table_name='scim_group_member')
    op.drop_table('scim_group_member')
    op.drop_index(op.f('ix_scim_group_organisation_id'), table_name='scim_group')
    op.drop_table('scim_group')
    op.drop_index(op.f('ix_scim_token_organisation_id'), table_name='scim_token')
    op.drop_table('scim_token')
