"""catalogue revision: a token that changes with every catalogue change, so processes can keep the catalogue

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-20 09:00:00.000000

"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'catalogue_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_catalogue_revision_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_revision')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': uuid.uuid4().hex, 'changed_at': datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table('catalogue_revision')
