"""an index on attempt (user_id, quiz_id): a person's attempts at a quiz

Revision ID: 5e2b7c4d9a31
Revises: 3d8f1b6c2a70
Create Date: 2026-12-07 09:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e2b7c4d9a31'
down_revision = '3d8f1b6c2a70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_attempt_user_quiz', 'attempt', ['user_id', 'quiz_id'], unique=False)


def downgrade():
    op.drop_index('ix_attempt_user_quiz', table_name='attempt')
