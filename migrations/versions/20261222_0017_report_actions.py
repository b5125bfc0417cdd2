"""report actions: recommendations of reports and actions with owner, due quarter and status, carried
from one quarter's report to the next

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-22 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('due_period', sa.String(length=12), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('scope', sa.String(length=12), nullable=False),
        sa.Column('scope_code', sa.String(length=20), nullable=False),
        sa.Column('raised_period', sa.String(length=12), nullable=False),
        sa.Column('raised_run_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'done', 'dropped')",
                           name=op.f('ck_report_action_status_known')),
        sa.CheckConstraint("scope IN ('sector', 'programme', 'county')", name=op.f('ck_report_action_scope_known')),
        sa.CheckConstraint("text <> ''", name=op.f('ck_report_action_text_given')),
        sa.ForeignKeyConstraint(['raised_run_id'], ['report_run.id'],
                                name=op.f('fk_report_action_raised_run_id_report_run')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_report_action_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name=op.f('fk_report_action_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_action')),
    )
    op.create_index('ix_report_action_scope', 'report_action', ['scope', 'scope_code', 'raised_period'], unique=False)
    op.create_index(op.f('ix_report_action_raised_run_id'), 'report_action', ['raised_run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_action_raised_run_id'), table_name='report_action')
    op.drop_index('ix_report_action_scope', table_name='report_action')
    op.drop_table('report_action')
