"""queue indexes: pending rows oldest first, so a claim looks at a bounded window of the oldest
rows whatever the backlog; they replace the single-column status indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 12:40:00
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('inbox', 'outbox'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_status_id', ['status', 'id'], unique=False)
            batch_op.drop_index(f'ix_{table}_status')


def downgrade() -> None:
    for table in ('inbox', 'outbox'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_status', ['status'], unique=False)
            batch_op.drop_index(f'ix_{table}_status_id')
