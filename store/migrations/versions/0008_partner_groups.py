"""partner groups (the directory of groups) and introductions (マッチング)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partner_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('activity_fields', sa.JSON(), nullable=False),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('offers', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seeks', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contact_public', sa.Boolean(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('partner_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_group_updated_at'), ['updated_at'], unique=False)

    op.create_table('introduction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('staff', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['partner_group.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('introduction', schema=None) as batch_op:
        for column in ('at', 'case_id', 'group_id'):
            batch_op.create_index(batch_op.f(f'ix_introduction_{column}'), [column], unique=False)


def downgrade() -> None:
    op.drop_table('introduction')
    op.drop_table('partner_group')
