"""a group registered on the web chat keeps the reference of its registration and the salted hash of
that registration's code, so that it can be changed or withdrawn later from another browser

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 02:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partner_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_reference', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('partner_group', schema=None) as batch_op:
        batch_op.drop_column('code_hash')
        batch_op.drop_column('code_reference')
