"""report publish job: publishing a report run is a background job with its state, who asked, when, and why it failed

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-24 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

STATES = "publish_state IN ('', 'queued', 'running', 'failed', 'done')"


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: rebuilding report_run on SQLite would drop the triggers
    # that keep a published run immutable (0008) and trip the foreign keys that point at it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE report_run ADD COLUMN publish_state VARCHAR(10) DEFAULT '' NOT NULL "
                   f"CONSTRAINT ck_report_run_publish_state_known CHECK ({STATES})")
        op.execute("ALTER TABLE report_run ADD COLUMN publish_requested_by_id INTEGER "
                   "CONSTRAINT fk_report_run_publish_requested_by_id_user_account REFERENCES user_account (id)")
    else:
        op.add_column('report_run', sa.Column('publish_state', sa.String(length=10), nullable=False,
                                              server_default=''))
        op.create_check_constraint(op.f('ck_report_run_publish_state_known'), 'report_run', STATES)
        op.add_column('report_run', sa.Column('publish_requested_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_report_run_publish_requested_by_id_user_account'), 'report_run',
                              'user_account', ['publish_requested_by_id'], ['id'])
    op.add_column('report_run', sa.Column('publish_requested_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('report_run', sa.Column('publish_error', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason.
    op.drop_column('report_run', 'publish_error')
    op.drop_column('report_run', 'publish_requested_at')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('fk_report_run_publish_requested_by_id_user_account'), 'report_run',
                           type_='foreignkey')
        op.drop_constraint(op.f('ck_report_run_publish_state_known'), 'report_run', type_='check')
    op.drop_column('report_run', 'publish_requested_by_id')
    op.drop_column('report_run', 'publish_state')
