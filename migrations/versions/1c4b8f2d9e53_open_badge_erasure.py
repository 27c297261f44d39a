"""open badges: a badge's SHA-256, so that its JWS can be deleted when the holder's data is erased

Revision ID: 1c4b8f2d9e53
Revises: c4d5e6f7a821
Create Date: 2026-12-05 22:30:00.000000

The stored JWS holds a salted hash of the holder's e-mail. Erasure (Art. 17) deletes it, as it
deletes a certificate's PDF, and keeps its SHA-256 so that a badge the person kept still verifies.
Existing rows get their SHA-256 from their JWS.
"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1c4b8f2d9e53'
down_revision = 'c4d5e6f7a821'
branch_labels = None
depends_on = None

badge = sa.table('open_badge', sa.column('id', sa.Integer()), sa.column('jwt', sa.Text()),
                 sa.column('sha256', sa.String(64)))


def upgrade():
    op.add_column('open_badge', sa.Column('sha256', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for row in connection.execute(sa.select(badge.c.id, badge.c.jwt)).all():
        connection.execute(badge.update().where(badge.c.id == row.id)
                           .values(sha256=hashlib.sha256(row.jwt.encode('ascii')).hexdigest()))
    with op.batch_alter_table('open_badge') as batch:
        batch.alter_column('sha256', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('jwt', existing_type=sa.Text(), nullable=True)
        batch.create_unique_constraint(batch.f('uq_open_badge_sha256'), ['sha256'])


def downgrade():
    # A badge deleted by erasure cannot come back: its row goes, like the data it held.
    op.execute(badge.delete().where(badge.c.jwt.is_(None)))
    with op.batch_alter_table('open_badge') as batch:
        batch.drop_constraint(batch.f('uq_open_badge_sha256'), type_='unique')
        batch.alter_column('jwt', existing_type=sa.Text(), nullable=False)
        batch.drop_column('sha256')
