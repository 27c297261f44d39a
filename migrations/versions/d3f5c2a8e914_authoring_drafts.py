"""authoring drafts and their images; lesson file names

Revision ID: d3f5c2a8e914
Revises: b7e1a9c40d21
Create Date: 2026-11-29 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = 'd3f5c2a8e914'
down_revision = 'b7e1a9c40d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('base_hash', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
    sa.Column('updated_at', lms.clock.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_draft_created_by_id_user')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_draft_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft')),
    sa.UniqueConstraint('kind', 'slug', name=op.f('uq_draft_kind'))
    )
    op.create_table('draft_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=50), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], name=op.f('fk_draft_image_draft_id_draft')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_image')),
    sa.UniqueConstraint('draft_id', 'path', name=op.f('uq_draft_image_draft_id'))
    )
    with op.batch_alter_table('draft_image', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_image_draft_id'), ['draft_id'], unique=False)
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('lesson', schema=None) as batch_op:
        batch_op.drop_column('file')
    with op.batch_alter_table('draft_image', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_image_draft_id'))
    op.drop_table('draft_image')
    op.drop_table('draft')
