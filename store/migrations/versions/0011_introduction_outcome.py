"""introductions keep their outcome (取組化: the match led to an actual joint effort), when and by whom

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False,
                                      server_default=''))
        batch_op.create_index('ix_introduction_outcome_at', ['outcome_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        batch_op.drop_index('ix_introduction_outcome_at')
        batch_op.drop_column('outcome_by')
        batch_op.drop_column('outcome_at')
        batch_op.drop_column('outcome')
