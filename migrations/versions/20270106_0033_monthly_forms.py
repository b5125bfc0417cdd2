"""monthly forms: a form asks figures quarterly or monthly, stated from a quarter on

`reporting_form_window.frequency` keeps the frequency stated from that row's quarter on (NULL: the
form's own, as before); the check on `reporting_form.frequency` allows 'monthly' as well as
'quarterly'. On SQLite the check is edited in the stored table definition (as 0011, 0022 and
0032 do): rebuilding reporting_form would cascade away the rows that point at it.

Revision ID: 0033
Revises: 0032
Create Date: 2027-01-06 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

OLD = "frequency = 'quarterly'"
NEW = "frequency IN ('quarterly', 'monthly')"


def _sqlite_check(old: str, new: str) -> None:
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                         "WHERE type = 'table' AND name = 'reporting_form'"), {"old": old, "new": new})
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _check(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_check(old, new)
    else:
        op.drop_constraint(op.f('ck_reporting_form_frequency_quarterly'), 'reporting_form', type_='check')
        op.create_check_constraint(op.f('ck_reporting_form_frequency_quarterly'), 'reporting_form', new)


def upgrade() -> None:
    op.add_column('reporting_form_window', sa.Column('frequency', sa.String(length=20), nullable=True))
    _check(OLD, NEW)


def downgrade() -> None:
    bind = op.get_bind()
    monthly = bind.execute(sa.text("SELECT count(*) FROM reporting_form WHERE frequency <> 'quarterly'")).scalar()
    monthly += bind.execute(sa.text("SELECT count(*) FROM reporting_form_window WHERE frequency = 'monthly'")).scalar()
    if monthly:
        raise RuntimeError(f"{monthly} monthly form setting(s) exist: make those forms quarterly before downgrading.")
    _check(NEW, OLD)
    with op.batch_alter_table('reporting_form_window') as batch:
        batch.drop_column('frequency')
