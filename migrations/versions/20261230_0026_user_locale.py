"""the language a person chose for the service's screens and e-mails

user_account.locale: "" (follow the browser) or a language code the service speaks ("en", "sw";
mel/i18n.py LANGUAGES).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-30 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('locale')
