"""Loading the org-unit tree below the counties: sub-counties (IEBC constituencies) and wards (idempotent).

seed/wards.csv (its SOURCE note: seed/wards.SOURCE.md) lists the 1,450 county assembly wards with
their constituency and county, keyed on the IEBC codes. Sub-counties are the 290 constituencies:
seed/subcounties.csv is not loaded (unofficial codes, 307 rows that neither match the constituencies
one to one nor cover them all; the note says to key on constituency and ward), it is shipped as the
reference it came with. Callers commit.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mel.catalogue.levels import COUNTY, SUBCOUNTY, SUBCOUNTY_PREFIX, WARD, WARD_PREFIX
from mel.catalogue.models import OrgUnit
from mel.uid import stable_uid

SEED_DIR = Path(__file__).resolve().parent / "seed"
WARDS_FILE = SEED_DIR / "wards.csv"
KINDS = {SUBCOUNTY: "sub-county", WARD: "ward"}  # the seed summary's words


@dataclass
class TreeSummary:
    """What loading the tree did, per level (3, 4): objects added and changed; and how many each level holds."""

    added: dict[int, int] = field(default_factory=dict)
    updated: dict[int, int] = field(default_factory=dict)
    held: dict[int, int] = field(default_factory=dict)

    def describe(self) -> str:
        held = ", ".join(f"{self.held.get(level, 0)} {word}" for level, word in (
            (COUNTY, "counties"), (SUBCOUNTY, "sub-counties"), (WARD, "wards")))
        return (f"Org-unit tree: {held}; {sum(self.added.values())} added, "
                f"{sum(self.updated.values())} updated.")


def subcounty_code(constituency_code: str) -> str:
    """The org-unit code of an IEBC constituency (`042` → `SC042`): the bare digits are a county's code."""
    return f"{SUBCOUNTY_PREFIX}{int(constituency_code):03d}"


def ward_code(iebc_ward_code: str) -> str:
    """The org-unit code of an IEBC county assembly ward (`0123` → `W0123`)."""
    return f"{WARD_PREFIX}{int(iebc_ward_code):04d}"


def read_wards(path: Path = WARDS_FILE) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{key: (value or "").strip() for key, value in row.items()} for row in csv.DictReader(handle)]


def seed_org_tree(session: Session, down_to: int, summary=None) -> TreeSummary:
    """Load sub-counties (`down_to` 3) and wards (4) under the counties already seeded; a second run
    changes nothing. `summary` (the catalogue seed's) counts what was created or updated too."""
    tree = TreeSummary()
    if down_to >= SUBCOUNTY:
        rows = read_wards()
        counties = {u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.level == COUNTY))}
        missing = sorted({row["county_code"] for row in rows} - set(counties))
        if missing:
            raise ValueError(f"wards.csv names counties {', '.join(missing)} that are not loaded: seed the counties first.")
        wanted = {}
        for row in rows:
            county = counties[row["county_code"]]
            code = subcounty_code(row["constituency_code"])
            wanted[code] = {"code": code, "name": row["constituency_name"], "level": SUBCOUNTY,
                            "parent_id": county.id, "path": f"{county.path}{code}/"}
        _sync(session, SUBCOUNTY, list(wanted.values()), tree, summary)
        if down_to >= WARD:
            parents = {u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.level == SUBCOUNTY))}
            wards = []
            for row in rows:
                parent = parents[subcounty_code(row["constituency_code"])]
                code = ward_code(row["ward_code"])
                wards.append({"code": code, "name": row["ward_name"], "level": WARD,
                              "parent_id": parent.id, "path": f"{parent.path}{code}/"})
            _sync(session, WARD, wards, tree, summary)
    tree.held = dict(session.execute(
        select(OrgUnit.level, func.count()).where(OrgUnit.level >= COUNTY).group_by(OrgUnit.level)).all())
    return tree


def _sync(session: Session, level: int, wanted: list[dict], tree: TreeSummary, summary) -> None:
    """Insert the units not there yet in one statement; bring the others' name, parent and path up to date."""
    existing = {u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_([w["code"] for w in wanted])))}
    new = [w | {"uid": stable_uid("org_unit", w["code"])} for w in wanted if w["code"] not in existing]
    if new:
        session.execute(insert(OrgUnit), new)
    changed = 0
    for values in wanted:
        unit = existing.get(values["code"])
        differs = {k: v for k, v in values.items() if unit is not None and getattr(unit, k) != v}
        if differs:
            by = summary.changed_by_admin(session, "org_unit", unit.code) if summary is not None else None
            if by is not None:
                summary.keep("org_unit", unit.code, by)
                continue
            for attr, value in differs.items():
                setattr(unit, attr, value)
            changed += 1
    session.flush()
    tree.added[level], tree.updated[level] = len(new), changed
    if summary is not None:
        kind = KINDS[level]
        if new:
            summary.created[kind] = summary.created.get(kind, 0) + len(new)
        if changed:
            summary.updated[kind] = summary.updated.get(kind, 0) + changed
