"""the agency an account belongs to (work-plan progress is recorded by the lead agency's officers)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-18 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user_account', sa.Column('agency', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('user_account', 'agency')
