"""the catalogue in Kiswahili: a Kiswahili name (and short definition) beside the English one

pillar, programme, results_node, indicator, disaggregation_category, category_option,
disaggregation_set and option_combo get `<field>_sw` text columns, empty until translated (pages in
Kiswahili then show the English text and flag it: mel/catalogue/language.py). The seeded objects get
the team's translations from mel/catalogue/seed/kiswahili.json where their Kiswahili text is empty;
option combinations get theirs from their options'. Kiswahili text is not part of an indicator's
versioned reference sheet, so no indicator version is added.

Revision ID: 0028
Revises: 0027
Create Date: 2027-01-01 09:00:00.000000

"""
from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# table -> (column, length or None for TEXT)
COLUMNS = {
    'pillar': (('name_sw', 120), ('description_sw', None)),
    'programme': (('name_sw', 200), ('notes_sw', None)),
    'results_node': (('name_sw', 300), ('description_sw', None)),
    'indicator': (('name_sw', 300), ('short_name_sw', 120), ('definition_sw', None)),
    'disaggregation_category': (('name_sw', 120),),
    'category_option': (('name_sw', 120),),
    'disaggregation_set': (('name_sw', 120),),
    'option_combo': (('name_sw', 200),),
}
SEED = Path(__file__).resolve().parents[2] / "mel" / "catalogue" / "seed" / "kiswahili.json"
# The seed file's section and the English fields it translates, per table keyed by code.
SECTIONS = {
    'pillar': ('pillars', ('name', 'description')),
    'programme': ('programmes', ('name', 'notes')),
    'results_node': ('results_framework', ('name', 'description')),
    'indicator': ('indicators', ('name', 'short_name', 'definition')),
    'disaggregation_set': ('disaggregation_sets', ('name',)),
    'disaggregation_category': ('categories', ('name',)),
}
TOTAL, DEFAULT = ("total", "Jumla"), ("default", "chaguo-msingi (bila mgawanyo)")  # mel/catalogue/language.py


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch copy: figures, returns, plans and reports point at these tables.
    for table, columns in COLUMNS.items():
        for name, length in columns:
            op.add_column(table, sa.Column(name, sa.String(length=length) if length else sa.Text(),
                                           nullable=False, server_default=''))
    _fill(op.get_bind())


def _fill(connection) -> None:
    """The seeded codes' Kiswahili text, where it is empty (a database not seeded yet has no rows)."""
    if not SEED.exists():
        return
    texts = json.loads(SEED.read_text(encoding="utf-8"))
    for table, (section, fields) in SECTIONS.items():
        for code, words in texts.get(section, {}).items():
            for field in fields:
                if words.get(field):
                    # table and field come from SECTIONS above, never from the file
                    connection.execute(sa.text(f"UPDATE {table} SET {field}_sw = :text "  # noqa: S608
                                               f"WHERE code = :code AND {field}_sw = ''"),
                                       {"text": words[field], "code": code})
    for category, words in texts.get("categories", {}).items():
        for option, name in words.get("options", {}).items():
            connection.execute(sa.text(
                "UPDATE category_option SET name_sw = :text WHERE code = :code AND name_sw = '' AND category_id = "
                "(SELECT id FROM disaggregation_category WHERE code = :category)"),
                {"text": name, "code": option, "category": category})
    _fill_combos(connection)
    connection.execute(sa.text("UPDATE catalogue_revision SET token = :token WHERE id = 1"),
                       {"token": uuid.uuid4().hex})


def _fill_combos(connection) -> None:
    """Each combination's Kiswahili name from its options' (as disaggregation_combos.sync_combos makes it)."""
    sets = connection.execute(sa.text("SELECT id FROM disaggregation_set")).scalars().all()
    for set_id in sets:
        categories = connection.execute(sa.text(
            "SELECT category_id FROM disaggregation_set_category WHERE set_id = :s ORDER BY position"),
            {"s": set_id}).scalars().all()
        options = [connection.execute(sa.text(
            "SELECT code, name_sw FROM category_option WHERE category_id = :c ORDER BY sort_order, id"),
            {"c": category}).all() for category in categories]
        names = dict([TOTAL, DEFAULT])
        for crossed in itertools.product(*options) if options else ():
            words = [row[1] for row in crossed]
            names["_".join(row[0] for row in crossed)] = ", ".join(words) if all(words) else ""
        for code, name in names.items():
            if name:
                connection.execute(sa.text("UPDATE option_combo SET name_sw = :text "
                                           "WHERE set_id = :s AND code = :code AND name_sw = ''"),
                                   {"text": name, "s": set_id, "code": code})


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason.
    for table, columns in reversed(COLUMNS.items()):
        for name, _ in reversed(columns):
            op.drop_column(table, name)
