"""a group registered through the chat keeps its applicant (channel and conversation key), and the
yearly confirmation's state: when it was first asked, and whether the group asked not to be asked

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partner_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicant_channel', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('applicant_user', sqlmodel.sql.sqltypes.AutoString(length=128),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('confirm_asked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('confirm_opt_out', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('partner_group', schema=None) as batch_op:
        batch_op.drop_column('confirm_opt_out')
        batch_op.drop_column('confirm_asked_on')
        batch_op.drop_column('applicant_user')
        batch_op.drop_column('applicant_channel')
