"""sign-in attempts (throttling with back-off instead of a lockout) and the audit of events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-18 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.CheckConstraint("outcome IN ('pending', 'failure', 'success', 'throttled')",
                           name=op.f('ck_sign_in_attempt_outcome_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempt')),
    )
    op.create_index('ix_sign_in_attempt_email_at', 'sign_in_attempt', ['email', 'attempted_at'])
    op.create_index('ix_sign_in_attempt_remote_addr_at', 'sign_in_attempt', ['remote_addr', 'attempted_at'])
    op.create_table(
        'audit_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('object', sa.String(length=200), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL',
                                name=op.f('fk_audit_event_actor_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    )
    op.create_index(op.f('ix_audit_event_occurred_at'), 'audit_event', ['occurred_at'])
    op.create_index(op.f('ix_audit_event_actor_id'), 'audit_event', ['actor_id'])
    op.create_index(op.f('ix_audit_event_action'), 'audit_event', ['action'])
    # The lockout is replaced by throttling on sign_in_attempt (plain DROP COLUMN, SQLite 3.35+).
    op.drop_column('user_account', 'locked_until')
    op.drop_column('user_account', 'failed_logins')


def downgrade() -> None:
    op.add_column('user_account', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('user_account', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.drop_table('audit_event')
    op.drop_table('sign_in_attempt')
