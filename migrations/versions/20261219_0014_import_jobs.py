"""import jobs: large uploads imported in the background, with progress and their result

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-19 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=12), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('programme', sa.String(length=20), nullable=True),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('submit', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('stage', sa.String(length=120), nullable=False),
        sa.Column('rows_read', sa.Integer(), nullable=False),
        sa.Column('returns_written', sa.Integer(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_import_job_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job')),
    )
    op.create_index(op.f('ix_import_job_user_id'), 'import_job', ['user_id'], unique=False)
    op.create_index('ix_report_run_state', 'report_run', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_run_state', table_name='report_run')
    op.drop_index(op.f('ix_import_job_user_id'), table_name='import_job')
    op.drop_table('import_job')
