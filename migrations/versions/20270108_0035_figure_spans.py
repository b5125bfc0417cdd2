"""figure spans: approved figures settled ahead of time, and the returns whose approval changed since

`figure_span` keeps, per run of consecutive quarters of a financial year, indicator, component,
programme and county (or Kenya), the approved figures added up both ways time can add (flow,
stock, in hundredths: whole numbers add up exactly); results read it instead of every data value when nothing they need is stale
(mel/results/summary.py). `figure_stale` lists the returns whose approval changed since: a trigger on
data_return adds a row whenever a return becomes approved or stops being approved, in the same
transaction, so no path that changes a return's state can leave the spans out of date unnoticed.
Every return already approved is listed as stale here; `mel figures refresh` (run by `mel db
upgrade`) settles them, and until then results read the data values as before.

Revision ID: 0035
Revises: 0034
Create Date: 2027-01-08 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

MARK = ("INSERT INTO figure_stale (programme_id, org_unit_id, period) VALUES ({ref}.programme_id, "
        "{ref}.org_unit_id, {ref}.period) ON CONFLICT DO NOTHING")


def upgrade() -> None:
    op.create_table(
        'figure_span',
        sa.Column('first_quarter', sa.String(length=12), nullable=False),
        sa.Column('last_quarter', sa.String(length=12), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('component', sa.String(length=12), nullable=False),
        sa.Column('flow', sa.BigInteger(), nullable=False),
        sa.Column('stock', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'],
                                name=op.f('fk_figure_span_indicator_id_indicator')),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_figure_span_org_unit_id_org_unit')),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ondelete='CASCADE',
                                name=op.f('fk_figure_span_programme_id_programme')),
        sa.PrimaryKeyConstraint('first_quarter', 'last_quarter', 'programme_id', 'org_unit_id', 'indicator_id',
                                'component', name=op.f('pk_figure_span')),
    )
    op.create_index('ix_figure_span_group', 'figure_span', ['programme_id', 'org_unit_id', 'first_quarter'])
    op.create_table(
        'figure_stale',
        sa.Column('programme_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('org_unit_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('period', sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint('programme_id', 'org_unit_id', 'period', name=op.f('pk_figure_stale')),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION mel_figures_stale() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    IF OLD.state = 'approved' THEN {MARK.format(ref="OLD")}; END IF;
                    RETURN OLD;
                END IF;
                IF NEW.state = 'approved' OR (TG_OP = 'UPDATE' AND OLD.state = 'approved') THEN
                    {MARK.format(ref="NEW")};
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER trg_return_figures_stale AFTER INSERT OR UPDATE OF state OR DELETE
                      ON data_return FOR EACH ROW EXECUTE FUNCTION mel_figures_stale()""")
    else:
        for event, ref, when in (("INSERT", "NEW", "NEW.state = 'approved'"),
                                 ("UPDATE OF state", "NEW", "(OLD.state = 'approved') <> (NEW.state = 'approved')"),
                                 ("DELETE", "OLD", "OLD.state = 'approved'")):
            op.execute(f"""CREATE TRIGGER trg_return_figures_stale_{event.split()[0].lower()} AFTER {event}
                           ON data_return WHEN {when} BEGIN {MARK.format(ref=ref)}; END""")
    op.execute("INSERT INTO figure_stale (programme_id, org_unit_id, period) "
               "SELECT DISTINCT programme_id, org_unit_id, period FROM data_return WHERE state = 'approved'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_return_figures_stale ON data_return")
        op.execute("DROP FUNCTION IF EXISTS mel_figures_stale()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_return_figures_stale_{event}")
    op.drop_table('figure_stale')
    op.drop_index('ix_figure_span_group', table_name='figure_span')
    op.drop_table('figure_span')
