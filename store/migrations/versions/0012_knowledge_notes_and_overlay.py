"""questions the desk could not answer well (masked, no user id) and the staff-made knowledge
overlay with its change log (the log's newest id is the overlay's version)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'question_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', _text(length=16), nullable=False),
        sa.Column('question', _text(length=500), nullable=False),
        sa.Column('entry_id', _text(length=64), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('channel', _text(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_question_note_created_at', 'question_note', ['created_at'], unique=False)
    op.create_table(
        'knowledge_overlay',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', _text(length=8), nullable=False),
        sa.Column('entry_id', _text(length=64), nullable=False),
        sa.Column('question', _text(length=500), nullable=False),
        sa.Column('title', _text(length=80), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('source', _text(length=200), nullable=False),
        sa.Column('cites', _text(length=64), nullable=False),
        sa.Column('as_of', _text(length=10), nullable=False),
        sa.Column('review_by', _text(length=10), nullable=False),
        sa.Column('created_by', _text(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_by', _text(length=128), nullable=True),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'knowledge_overlay_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('overlay_id', sa.Integer(), nullable=False),
        sa.Column('action', _text(length=8), nullable=False),
        sa.Column('by', _text(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('previous', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['overlay_id'], ['knowledge_overlay.id']),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('knowledge_overlay_change')
    op.drop_table('knowledge_overlay')
    op.drop_index('ix_question_note_created_at', table_name='question_note')
    op.drop_table('question_note')
