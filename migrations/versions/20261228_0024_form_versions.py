"""reporting form versions effective from a quarter, programme administration

A form's indicators and org units get the quarters they are asked for (from_period until
until_period, None open-ended), so a change stated from a quarter on leaves earlier returns with
the form they were made with. The rows move to reporting_form_item and reporting_form_unit (a
surrogate key: one indicator or org unit may be on a form for several stretches of quarters);
the existing rows apply to every quarter.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-28 09:00:00.000000

"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def _new_catalogue_token() -> None:
    # Processes keep the catalogue under this token (mel/catalogue/lookup.py): rows written here are a change.
    op.execute(sa.text("UPDATE catalogue_revision SET token = :token WHERE id = 1").bindparams(token=uuid.uuid4().hex))


def upgrade() -> None:
    op.create_table(
        'reporting_form_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('is_required', sa.Boolean(), nullable=False),
        sa.Column('from_period', sa.String(length=10), nullable=True),
        sa.Column('until_period', sa.String(length=10), nullable=True),
        sa.CheckConstraint('from_period IS NULL OR until_period IS NULL OR from_period < until_period',
                           name=op.f('ck_reporting_form_item_periods_ordered')),
        sa.ForeignKeyConstraint(['form_id'], ['reporting_form.id'],
                                name=op.f('fk_reporting_form_item_form_id_reporting_form'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'],
                                name=op.f('fk_reporting_form_item_indicator_id_indicator')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_form_item')),
        sa.UniqueConstraint('form_id', 'indicator_id', 'from_period',
                            name=op.f('uq_reporting_form_item_form_id_indicator_id_from_period')),
    )
    op.create_index(op.f('ix_reporting_form_item_form_id'), 'reporting_form_item', ['form_id'], unique=False)
    op.create_index(op.f('ix_reporting_form_item_indicator_id'), 'reporting_form_item', ['indicator_id'], unique=False)
    op.create_table(
        'reporting_form_unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=False),
        sa.Column('from_period', sa.String(length=10), nullable=True),
        sa.Column('until_period', sa.String(length=10), nullable=True),
        sa.CheckConstraint('from_period IS NULL OR until_period IS NULL OR from_period < until_period',
                           name=op.f('ck_reporting_form_unit_periods_ordered')),
        sa.ForeignKeyConstraint(['form_id'], ['reporting_form.id'],
                                name=op.f('fk_reporting_form_unit_form_id_reporting_form'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'],
                                name=op.f('fk_reporting_form_unit_org_unit_id_org_unit'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_form_unit')),
        sa.UniqueConstraint('form_id', 'org_unit_id', 'from_period',
                            name=op.f('uq_reporting_form_unit_form_id_org_unit_id_from_period')),
    )
    op.create_index(op.f('ix_reporting_form_unit_form_id'), 'reporting_form_unit', ['form_id'], unique=False)
    op.create_index(op.f('ix_reporting_form_unit_org_unit_id'), 'reporting_form_unit', ['org_unit_id'], unique=False)
    op.execute(
        "INSERT INTO reporting_form_item (form_id, indicator_id, position, is_required) "
        "SELECT form_id, indicator_id, position, is_required FROM reporting_form_indicator "
        "ORDER BY form_id, position, indicator_id"
    )
    op.execute(
        "INSERT INTO reporting_form_unit (form_id, org_unit_id) "
        "SELECT form_id, org_unit_id FROM reporting_form_org_unit ORDER BY form_id, org_unit_id"
    )
    op.drop_table('reporting_form_org_unit')
    op.drop_table('reporting_form_indicator')
    _new_catalogue_token()


def downgrade() -> None:
    op.create_table(
        'reporting_form_indicator',
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('is_required', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['form_id'], ['reporting_form.id'],
                                name=op.f('fk_reporting_form_indicator_form_id_reporting_form'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'],
                                name=op.f('fk_reporting_form_indicator_indicator_id_indicator')),
        sa.PrimaryKeyConstraint('form_id', 'indicator_id', name=op.f('pk_reporting_form_indicator')),
    )
    op.create_table(
        'reporting_form_org_unit',
        sa.Column('form_id', sa.Integer(), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['form_id'], ['reporting_form.id'],
                                name=op.f('fk_reporting_form_org_unit_form_id_reporting_form'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'],
                                name=op.f('fk_reporting_form_org_unit_org_unit_id_org_unit'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('form_id', 'org_unit_id', name=op.f('pk_reporting_form_org_unit')),
    )
    # One form per programme without quarters: the latest stretch of each indicator and org unit
    # (the form as it is asked from now on); earlier stretches cannot be kept.
    op.execute(
        "INSERT INTO reporting_form_indicator (form_id, indicator_id, position, is_required) "
        "SELECT form_id, indicator_id, position, is_required FROM reporting_form_item WHERE until_period IS NULL"
    )
    op.execute(
        "INSERT INTO reporting_form_org_unit (form_id, org_unit_id) "
        "SELECT form_id, org_unit_id FROM reporting_form_unit WHERE until_period IS NULL"
    )
    op.drop_index(op.f('ix_reporting_form_unit_org_unit_id'), table_name='reporting_form_unit')
    op.drop_index(op.f('ix_reporting_form_unit_form_id'), table_name='reporting_form_unit')
    op.drop_table('reporting_form_unit')
    op.drop_index(op.f('ix_reporting_form_item_indicator_id'), table_name='reporting_form_item')
    op.drop_index(op.f('ix_reporting_form_item_form_id'), table_name='reporting_form_item')
    op.drop_table('reporting_form_item')
    _new_catalogue_token()
