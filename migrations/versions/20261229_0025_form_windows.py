"""reporting form window days effective from a quarter

A form's window days (opens, due, closes after the quarter ends) may be changed from a stated
quarter on: each change is a reporting_form_window row; quarters before a form's first row keep
the days of the form's own columns, so a change never reopens (or closes) a past quarter.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-29 09:00:00.000000

"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def _new_catalogue_token() -> None:
    # Processes keep the catalogue under this token (mel/catalogue/lookup.py): rows written here are a change.
    op.execute(sa.text("UPDATE catalogue_revision SET token = :token WHERE id = 1").bindparams(token=uuid.uuid4().hex))


def upgrade() -> None:
    op.create_table(
        'reporting_form_window',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('from_period', sa.String(length=10), nullable=False),
        sa.Column('opens_days', sa.Integer(), nullable=False),
        sa.Column('due_days', sa.Integer(), nullable=False),
        sa.Column('closes_days', sa.Integer(), nullable=False),
        sa.CheckConstraint('opens_days <= due_days AND due_days <= closes_days',
                           name=op.f('ck_reporting_form_window_window_ordered')),
        sa.ForeignKeyConstraint(['form_id'], ['reporting_form.id'],
                                name=op.f('fk_reporting_form_window_form_id_reporting_form'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_form_window')),
        sa.UniqueConstraint('form_id', 'from_period', name=op.f('uq_reporting_form_window_form_id_from_period')),
    )
    op.create_index(op.f('ix_reporting_form_window_form_id'), 'reporting_form_window', ['form_id'], unique=False)


def downgrade() -> None:
    # One window per form without quarters: the latest stated days (the window from now on) become
    # the form's own; the days of earlier stretches cannot be kept.
    op.execute(
        "UPDATE reporting_form SET "
        "opens_days = (SELECT w.opens_days FROM reporting_form_window w WHERE w.form_id = reporting_form.id "
        "AND w.from_period = (SELECT MAX(x.from_period) FROM reporting_form_window x WHERE x.form_id = w.form_id)), "
        "due_days = (SELECT w.due_days FROM reporting_form_window w WHERE w.form_id = reporting_form.id "
        "AND w.from_period = (SELECT MAX(x.from_period) FROM reporting_form_window x WHERE x.form_id = w.form_id)), "
        "closes_days = (SELECT w.closes_days FROM reporting_form_window w WHERE w.form_id = reporting_form.id "
        "AND w.from_period = (SELECT MAX(x.from_period) FROM reporting_form_window x WHERE x.form_id = w.form_id)) "
        "WHERE id IN (SELECT form_id FROM reporting_form_window)"
    )
    op.drop_index(op.f('ix_reporting_form_window_form_id'), table_name='reporting_form_window')
    op.drop_table('reporting_form_window')
    _new_catalogue_token()
