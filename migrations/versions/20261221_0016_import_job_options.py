"""import job options: a queued DHIS2 data value set import keeps its import options and format

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-21 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_job') as batch:
        batch.add_column(sa.Column('options', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_job') as batch:
        batch.drop_column('options')
