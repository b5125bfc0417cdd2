"""data values belong to the return of their own programme, org unit and period

The foreign key from data_value to data_return covers the whole address (return id, programme,
org unit, period), so the database itself refuses a figure filed in another quarter's return.
Databases holding such figures (written by imports before this release) must be repaired first:
the upgrade stops and names the command.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-15 10:00:00.000000

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ADDRESS_KEY = "uq_data_return_id_programme_id_org_unit_id_period"
RETURN_FK = "fk_data_value_return_id_data_return"
ADDRESS = ["return_id", "programme_id", "org_unit_id", "period"]
MISPLACED = """
    SELECT count(*) FROM data_value v JOIN data_return r ON r.id = v.return_id
    WHERE r.programme_id <> v.programme_id OR r.org_unit_id <> v.org_unit_id OR r.period <> v.period"""


def _refuse(count: int) -> None:
    from mel.errors import Conflict

    raise Conflict(
        f"{count} data value{'s' if count != 1 else ''} sit in the return of another quarter or "
        "org unit (written by an import before this release). Run `mel returns repair --dry-run` "
        "to see them, `mel returns repair` to move each to its own return, then `mel db upgrade` "
        "again. Nothing was changed.")


def _sqlite_triggers(table: str) -> list[str]:
    """SQLite drops a table's triggers when batch mode rebuilds it: keep their SQL to restore them."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    return list(bind.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t ORDER BY name"),
        {"t": table}).scalars())


def _restore(triggers: list[str]) -> None:
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    misplaced = op.get_bind().execute(sa.text(MISPLACED)).scalar()
    if misplaced:
        _refuse(misplaced)
    with op.batch_alter_table('data_return', schema=None) as batch_op:
        batch_op.create_index(ADDRESS_KEY, ['id', 'programme_id', 'org_unit_id', 'period'], unique=True)

    triggers = _sqlite_triggers("data_value")
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_constraint(RETURN_FK, type_='foreignkey')
        batch_op.create_foreign_key(RETURN_FK, 'data_return', ADDRESS,
                                    ['id', 'programme_id', 'org_unit_id', 'period'], ondelete='CASCADE')
    _restore(triggers)


def downgrade() -> None:
    triggers = _sqlite_triggers("data_value")
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_constraint(RETURN_FK, type_='foreignkey')
        batch_op.create_foreign_key(RETURN_FK, 'data_return', ['return_id'], ['id'], ondelete='CASCADE')
    _restore(triggers)
    with op.batch_alter_table('data_return', schema=None) as batch_op:
        batch_op.drop_index(ADDRESS_KEY)
