"""handbook runs: the making of a handbook edition, visible while it goes and after it failed

New table only: handbook_run, one row per request to make an edition of the reporting guidelines
handbook (web, API or command line): its state (queued, running, done, failed), stage and progress,
the note and languages asked for, the number and catalogue version the edition will have, who asked
and when, its start, last sign of progress and end, why it failed (English text and the message as
data, to say it in the reader's language) and the edition it made. A partial unique index keeps one
run in the making per edition number (two requests at the same moment ask for the same number).

Revision ID: 0031
Revises: 0030
Create Date: 2027-01-04 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

IN_FLIGHT = "state IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table('handbook_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('stage', sa.String(length=120), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('catalogue_version', sa.String(length=40), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('error_words', sa.JSON(), nullable=True),
    sa.Column('edition_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state <> 'done' OR edition_id IS NOT NULL", name=op.f('ck_handbook_run_done_has_edition')),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_handbook_run_state_known')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_handbook_run_number_positive')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_handbook_run_progress_percent')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_handbook_run_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['edition_id'], ['handbook_edition.id'], name=op.f('fk_handbook_run_edition_id_handbook_edition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handbook_run'))
    )
    op.create_index('uq_handbook_run_in_flight', 'handbook_run', ['number'], unique=True,
                    sqlite_where=sa.text(IN_FLIGHT), postgresql_where=sa.text(IN_FLIGHT))


def downgrade() -> None:
    op.drop_index('uq_handbook_run_in_flight', table_name='handbook_run')
    op.drop_table('handbook_run')
