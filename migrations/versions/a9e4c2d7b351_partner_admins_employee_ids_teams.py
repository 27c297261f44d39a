"""partner admins, employee ids and teams: user.employee_id (unique per organisation), user.team,
and the programmes made available to each partner organisation

Revision ID: a9e4c2d7b351
Revises: 1c4b8f2d9e53
Create Date: 2026-12-05 22:45:00.000000

The partner_admin role needs no schema change (roles are stored as plain strings).
"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'a9e4c2d7b351'
down_revision = '1c4b8f2d9e53'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employee_id', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('team', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_team'), ['team'], unique=False)
        batch_op.create_unique_constraint('uq_user_organisation_employee_id', ['organisation_id', 'employee_id'])
    op.create_table(
        'programme_availability',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organisation_id', 'programme_id'),
    )


def downgrade():
    op.drop_table('programme_availability')
    # The older code knows no partner_admin role: such accounts become inactive agents, so that
    # nobody keeps a session with a role the code cannot read (re-upgrading does not restore them).
    op.execute("UPDATE \"user\" SET role = 'agent', active = false WHERE role = 'partner_admin'")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_user_organisation_employee_id', type_='unique')
        batch_op.drop_index(batch_op.f('ix_user_team'))
        batch_op.drop_column('team')
        batch_op.drop_column('employee_id')
