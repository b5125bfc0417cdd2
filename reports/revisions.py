"""The footnote on targets that come from a revised performance monitoring plan (PMP).

A plan's targets may be revised during the year (a new PmpVersion with its reason); a reader
comparing with the plan they hold must see that the printed target is the revised one, and why.
"""

from __future__ import annotations

from reports.i18n import _

MARK = "†"


def revision_note(pmp: dict | None) -> str:
    """ "Targets marked † come from revision 2 of the Sector PMP FY2024/25: <reason>." ("" for a first version)."""
    if not pmp or int(pmp.get("version") or 1) <= 1:
        return ""
    reason = str(pmp.get("reason") or "").strip().rstrip(".")
    if reason:
        return _("Targets marked %(mark)s come from revision %(version)s of the %(plan)s: %(reason)s.", mark=MARK,
                 version=pmp["version"], plan=pmp["title"], reason=reason)
    return _("Targets marked %(mark)s come from revision %(version)s of the %(plan)s.", mark=MARK,
             version=pmp["version"], plan=pmp["title"])


def plan_name(pmp: dict | None) -> str | None:
    """The plan as results name it in their `pmp` field ("SECTOR 2024July")."""
    return f"{pmp['scope']} {pmp['fiscal_year']}" if pmp else None


def is_revised_target(row: dict, pmp: dict | None) -> bool:
    """True when the row's target was set by `pmp` and that plan is a revision (version > 1)."""
    return bool(revision_note(pmp)) and row.get("target") is not None and row.get("pmp") == plan_name(pmp)
