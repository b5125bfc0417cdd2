"""window exceptions: a later closing date for one org unit's return of one period (DHIS2's lock exception)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-25 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'window_exception',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('closes_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['form_id'], ['reporting_form.id'],
                                name=op.f('fk_window_exception_form_id_reporting_form'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'],
                                name=op.f('fk_window_exception_org_unit_id_org_unit'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_window_exception')),
        sa.UniqueConstraint('form_id', 'org_unit_id', 'period', name=op.f('uq_window_exception_form_id_org_unit_id_period')),
    )
    op.create_index(op.f('ix_window_exception_form_id'), 'window_exception', ['form_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_window_exception_form_id'), table_name='window_exception')
    op.drop_table('window_exception')
