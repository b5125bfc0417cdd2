"""history-check thresholds on indicators; the kind of each explanation on flags

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-17 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of `indicator` on SQLite would trip the foreign keys that
    # point at it once figures exist.
    op.add_column('indicator', sa.Column('check_min_change', sa.Float(), nullable=True))
    op.add_column('indicator', sa.Column('check_min_absolute', sa.Float(), nullable=True))
    op.add_column('indicator', sa.Column('check_min_points', sa.Float(), nullable=True))
    op.add_column('indicator', sa.Column('check_seasonal', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('indicator', sa.Column('check_note', sa.Text(), nullable=False, server_default=''))
    op.add_column('value_flag', sa.Column('explanation_code', sa.String(length=30), nullable=False,
                                          server_default=''))
    _code_explanations()


def _code_explanations() -> None:
    """Give the flags explained before this revision the reason their text starts with."""
    from indicators.explanations import explanation_code  # pure: no application code

    flags = sa.table('value_flag', sa.column('id', sa.Integer), sa.column('explanation', sa.Text),
                     sa.column('explanation_code', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(flags.c.id, flags.c.explanation).where(flags.c.explanation != '')).all()
    by_code: dict[str, list[int]] = {}
    for flag_id, text in rows:
        by_code.setdefault(explanation_code(text), []).append(flag_id)
    for code, ids in by_code.items():
        for start in range(0, len(ids), 500):
            bind.execute(flags.update().where(flags.c.id.in_(ids[start:start + 500])).values(explanation_code=code))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of `indicator` would trip the foreign
    # keys that point at it.
    op.drop_column('value_flag', 'explanation_code')
    for column in ('check_note', 'check_seasonal', 'check_min_points', 'check_min_absolute', 'check_min_change'):
        op.drop_column('indicator', column)
