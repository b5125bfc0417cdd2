"""ward levels: the org-unit tree goes down to sub-counties (3) and wards (4)

Only the check on org_unit.level changes (1..3 becomes 1..4); `mel seed --levels ward` loads the
290 constituencies and 1,450 wards. On SQLite the check is edited in the stored table definition
(SQLite's documented way for a CHECK change), never by a batch copy: rebuilding org_unit would trip
the foreign keys that point at it and cascade away programme coverage (as in 0011 and 0022).

Revision ID: 0032
Revises: 0031
Create Date: 2027-01-05 09:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

OLD, NEW = 'level BETWEEN 1 AND 3', 'level BETWEEN 1 AND 4'


def _sqlite_check(old: str, new: str) -> None:
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                         "WHERE type = 'table' AND name = 'org_unit'"), {"old": old, "new": new})
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _check(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_check(old, new)
    else:
        op.drop_constraint(op.f('ck_org_unit_level_range'), 'org_unit', type_='check')
        op.create_check_constraint(op.f('ck_org_unit_level_range'), 'org_unit', new)


def upgrade() -> None:
    _check(OLD, NEW)


def downgrade() -> None:
    # SQLite would not re-check the rows against the edited definition: refuse here, on both.
    deeper = op.get_bind().execute(sa.text("SELECT count(*) FROM org_unit WHERE level > 3")).scalar()
    if deeper:
        raise RuntimeError(f"{deeper} org units below level 3 (wards) are loaded: remove them before downgrading.")
    _check(NEW, OLD)
