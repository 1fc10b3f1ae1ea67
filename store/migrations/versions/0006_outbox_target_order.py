"""queue indexes: an outbox target's pending messages in order; composite indexes replace the
single-column ones they start with (a planner without statistics picked those and scanned)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:20:00
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_target_status_id', ['channel', 'target', 'status', 'id'], unique=False)
        batch_op.drop_index('ix_outbox_channel')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_user_key')


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_user_key', ['user_key'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_channel', ['channel'], unique=False)
        batch_op.drop_index('ix_outbox_target_status_id')
