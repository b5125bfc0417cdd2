"""disaggregation administration (retired options, categories and sets)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-27 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

TABLES = ('category_option', 'option_combo')


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: figures, changes, queries and flags point at option_combo.
    for table in TABLES:
        op.add_column(table, sa.Column('is_active', sa.Boolean(), nullable=False, server_default=sa.true()))
        op.add_column(table, sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason.
    for table in TABLES:
        op.drop_column(table, 'retired_at')
        op.drop_column(table, 'is_active')
