"""single sign-on: an OpenID Connect connection per organisation, and the (issuer, sub) links

Revision ID: f1a2b3c4d520
Revises: e2f3a4b5c619
Create Date: 2026-12-05 22:40:00.000000

New tables only (lms/sso/models.py). Client secrets are stored encrypted (lms/sso/crypto.py).
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d520'
down_revision = 'e2f3a4b5c619'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sso_connection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('client_id', sa.String(length=200), nullable=False),
        sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
        sa.Column('scopes', sa.String(length=300), nullable=False),
        sa.Column('email_claim', sa.String(length=100), nullable=False),
        sa.Column('role_claim', sa.String(length=100), nullable=False),
        sa.Column('trainer_values', sa.Text(), nullable=False),
        sa.Column('domains', sa.Text(), nullable=False),
        sa.Column('jit_provisioning', sa.Boolean(), nullable=False),
        sa.Column('link_by_email', sa.Boolean(), nullable=False),
        sa.Column('passwords_forbidden', sa.Boolean(), nullable=False),
        sa.Column('idp_mfa_accepted', sa.Boolean(), nullable=False),
        sa.Column('mfa_acr_values', sa.String(length=300), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('updated_at', lms.clock.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_sso_connection_organisation_id_organisation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_connection')),
        sa.UniqueConstraint('organisation_id', name=op.f('uq_sso_connection_organisation_id')),
    )
    op.create_table(
        'sso_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.Column('last_sign_in_at', lms.clock.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['connection_id'], ['sso_connection.id'],
                                name=op.f('fk_sso_identity_connection_id_sso_connection'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sso_identity_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
        sa.UniqueConstraint('issuer', 'subject', name='uq_sso_identity_issuer_subject'),
    )
    with op.batch_alter_table('sso_identity') as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_identity_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_identity_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sso_identity') as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_identity_user_id'))
        batch_op.drop_index(batch_op.f('ix_sso_identity_connection_id'))
    op.drop_table('sso_identity')
    op.drop_table('sso_connection')
