"""outbox leases name their holder (a sender process), so a process that starts takes back a dead
holder's rows at once; erasure tombstones; the desk's own secrets (the audit key when unset)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_holder', sa.BigInteger(), nullable=True))
    op.create_table('erasure',
                    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
                    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('subject'))
    op.create_table('desksecret',
                    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
                    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('desksecret')
    op.drop_table('erasure')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lease_holder')
