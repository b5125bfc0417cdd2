"""narrative change audit: who changed a return's narrative, when, from what, to what

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-16 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLE = "narrative_change"


def _create_guard() -> None:
    """Like value_change and return_event, the narrative audit is append-only in the database."""
    if op.get_bind().dialect.name == "postgresql":
        # mel_append_only() comes from revision 0002.
        op.execute(f"""CREATE TRIGGER trg_{TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
                       FOR EACH ROW EXECUTE FUNCTION mel_append_only()""")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER trg_{TABLE}_append_only_{event.lower()} BEFORE {event} ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END""")


def _drop_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS trg_{TABLE}_append_only ON {TABLE}")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_{TABLE}_append_only_{event}")


def upgrade() -> None:
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('old_text', sa.Text(), nullable=False),
    sa.Column('new_text', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('return_version', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('web', 'excel', 'csv', 'api', 'dhis2', 'cli', 'system')", name=op.f('ck_narrative_change_channel_known')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'], name=op.f('fk_narrative_change_changed_by_id_user_account')),
    sa.ForeignKeyConstraint(['return_id'], ['data_return.id'], name=op.f('fk_narrative_change_return_id_data_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_narrative_change'))
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index('ix_narrative_change_return_changed', ['return_id', 'changed_at'], unique=False)
    _create_guard()


def downgrade() -> None:
    _drop_guard()
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index('ix_narrative_change_return_changed')
    op.drop_table(TABLE)
