"""indicator versions (reference-sheet history, replaced-by)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-26 09:00:00.000000

"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# The reference sheet as a version keeps it (mel/catalogue/versioning.py `sheet`, frozen here as of 0022).
TEXT_FIELDS = ("code", "name", "short_name", "definition", "rationale", "level", "unit", "measure", "numerator",
               "denominator", "calculation", "time_aggregation", "direction", "frequency", "data_source",
               "collection_method", "means_of_verification", "responsible_agency", "limitations", "basis")
REPLACED_BY_FK = 'fk_indicator_replaced_by_id_indicator'


def upgrade() -> None:
    op.create_table(
        'indicator_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_by', sa.String(length=254), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('version >= 1', name=op.f('ck_indicator_version_version_positive')),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'],
                                name=op.f('fk_indicator_version_indicator_id_indicator')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_version')),
        sa.UniqueConstraint('indicator_id', 'version', name=op.f('uq_indicator_version_indicator_id_version')),
    )
    # Plain ADD COLUMN, never a batch copy: rebuilding `indicator` on SQLite would trip the foreign keys
    # that point at it once figures exist (as in 0011).
    op.add_column('indicator', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE indicator ADD COLUMN replaced_by_id INTEGER "
                   f"CONSTRAINT {REPLACED_BY_FK} REFERENCES indicator (id)")
    else:
        op.add_column('indicator', sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(REPLACED_BY_FK), 'indicator', 'indicator', ['replaced_by_id'], ['id'])
    _first_versions()


def _first_versions() -> None:
    """Version 1 of every indicator: its reference sheet as it stands before versions begin."""
    bind = op.get_bind()
    indicator = sa.table('indicator', *(sa.column(name) for name in (
        "id", *TEXT_FIELDS, "factor", "is_additive_across_programmes", "is_active", "pillar_id",
        "disaggregation_set_id")))
    pillar = sa.table('pillar', sa.column('id'), sa.column('code'))
    dset = sa.table('disaggregation_set', sa.column('id'), sa.column('code'))
    versions = sa.table('indicator_version', sa.column('indicator_id'), sa.column('version'),
                        sa.column('fields', sa.JSON), sa.column('reason'), sa.column('changed_by'),
                        sa.column('changed_at', sa.DateTime(timezone=True)))
    rows = bind.execute(
        sa.select(indicator, pillar.c.code.label("pillar_code"), dset.c.code.label("set_code"))
        .join(pillar, pillar.c.id == indicator.c.pillar_id)
        .join(dset, dset.c.id == indicator.c.disaggregation_set_id)
    ).mappings().all()
    now = datetime.now(UTC)
    records = []
    for row in rows:
        fields = {name: row[name] or "" for name in TEXT_FIELDS}
        fields.update({
            "pillar": row["pillar_code"], "disaggregation": row["set_code"],
            "factor": int(row["factor"]) if row["factor"] is not None else None,
            "is_additive_across_programmes": bool(row["is_additive_across_programmes"]),
            "is_active": bool(row["is_active"]) if row["is_active"] is not None else True,
            "replaced_by": None,
        })
        records.append({"indicator_id": row["id"], "version": 1, "fields": fields, "changed_at": now,
                        "reason": "The reference sheet as it stood when versions began.",
                        "changed_by": "system"})
    if records:
        bind.execute(versions.insert(), records)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(REPLACED_BY_FK), 'indicator', type_='foreignkey')
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as above.
    op.drop_column('indicator', 'replaced_by_id')
    op.drop_column('indicator', 'version')
    op.drop_table('indicator_version')
