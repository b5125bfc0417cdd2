"""the language a report run is written in

report_run.language: "en" or "sw" (mel/i18n.py LANGUAGES). Runs before this revision were English.
One quarter's report may be generated and published in each language.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-31 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


LANGUAGES = "language IN ('en', 'sw')"


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: rebuilding report_run on SQLite would drop the triggers
    # that keep a published run immutable (0008), as in 0020.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE report_run ADD COLUMN language VARCHAR(8) DEFAULT 'en' NOT NULL "
                   f"CONSTRAINT ck_report_run_language_known CHECK ({LANGUAGES})")
    else:
        op.add_column('report_run', sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))
        op.create_check_constraint(op.f('ck_report_run_language_known'), 'report_run', LANGUAGES)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('ck_report_run_language_known'), 'report_run', type_='check')
    op.drop_column('report_run', 'language')
