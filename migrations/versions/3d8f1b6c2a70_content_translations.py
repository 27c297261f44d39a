"""content translations (from the files, or saved in the browser by a trainer), and the language
an attempt was shown in

Revision ID: 3d8f1b6c2a70
Revises: 7a3c9e51d2b8
Create Date: 2026-12-06 04:20:00

"""
from alembic import op
import sqlalchemy as sa

import lms.clock


# revision identifiers, used by Alembic.
revision = '3d8f1b6c2a70'
down_revision = '7a3c9e51d2b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('translation_of', sa.String(length=64), nullable=False),
    sa.Column('if_stale', sa.String(length=20), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('created_at', lms.clock.UTCDateTime(), nullable=False),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['edited_by_id'], ['user.id'], name=op.f('fk_content_translation_edited_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_translation')),
    sa.UniqueConstraint('kind', 'slug', 'language', 'content_hash',
                        name=op.f('uq_content_translation_kind'))
    )
    op.create_index('ix_content_translation_current', 'content_translation',
                    ['kind', 'slug', 'language', 'current'], unique=False)
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_attempt_translation_id_content_translation'),
                                    'content_translation', ['translation_id'], ['id'])


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attempt_translation_id_content_translation'), type_='foreignkey')
        batch_op.drop_column('language')
        batch_op.drop_column('translation_id')
    op.drop_index('ix_content_translation_current', table_name='content_translation')
    op.drop_table('content_translation')
