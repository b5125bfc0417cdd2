"""Budget and money: the joint work plan's budget, spend to date and absorption, and a programme's
disbursement against the PMP's annual target of it. Absorption is spend ÷ budget; money prints in the
one notation of reports/format.kes."""

from __future__ import annotations

from dataclasses import dataclass, field

from reports import breakdown_charts as bc
from reports import charts
from reports.format import DASH, kes
from reports.i18n import _, localised


@dataclass
class MoneyLine:
    name: str
    budget: float | None
    spent: float | None
    budget_text: str
    spent_text: str
    absorption: float | None
    absorption_text: str
    code: str = ""
    count: int = 0  # activities in a working group
    note: str = ""


@dataclass
class Money:
    title: str
    lines: list[MoneyLine]
    total: MoneyLine | None = None
    chart: str = ""
    activities: dict[str, MoneyLine] = field(default_factory=dict)  # activity code -> its line


def absorption(budget: float | None, spent: float | None) -> float | None:
    """Spend ÷ budget in percent; None without a positive budget or a reported spend."""
    if spent is None or not budget or budget <= 0:
        return None
    return spent / budget * 100


def line(name: str, budget: float | None, spent: float | None, **extra) -> MoneyLine:
    share = absorption(budget, spent)
    return MoneyLine(name, budget, spent, kes(budget) if budget is not None else DASH,
                     kes(spent) if spent is not None else DASH, share,
                     localised(f"{share:.1f}%") if share is not None else DASH, **extra)


def _number(value) -> float | None:
    return None if value in (None, "") else float(value)


def workplan_money(snapshot: dict, width: float = 500) -> Money | None:
    """Budget, spend to date and absorption by thematic working group and by activity."""
    plan = snapshot.get("workplan")
    if not plan or not plan.get("activities"):
        return None
    activities: dict[str, MoneyLine] = {}
    lines = []
    for code, name in plan["working_groups"].items():
        mine = [a for a in plan["activities"] if a["working_group"] == code]
        if not mine:
            continue
        for activity in mine:
            spent = _number((activity.get("current") or {}).get("spend_to_date"))
            activities[activity["code"]] = line(activity["title"], _number(activity.get("budget_kes")), spent,
                                                code=activity["code"])
        budget = sum(activities[a["code"]].budget or 0 for a in mine)
        spends: list[float] = [s for a in mine if (s := activities[a["code"]].spent) is not None]
        lines.append(line(name, budget, sum(spends) if spends else None, code=code, count=len(mine)))
    spent_by_group = [g.spent for g in lines if g.spent is not None]
    total = line(_("All working groups"), sum(g.budget or 0 for g in lines),
                 sum(spent_by_group) if spent_by_group else None,
                 count=sum(g.count for g in lines))
    year = (charts.snapshot_period(plan, "fiscal_year", "fiscal_year_label")
            or charts.snapshot_period(snapshot, "fiscal_year", "fiscal_year_label"))
    title = _("Joint work plan %(year)s: budget and spend to date by thematic working group, %(period)s",
              year=year, period=charts.snapshot_period(snapshot))
    chart = charts.data_uri(bc.budget_bars([(g.name, g.budget, g.spent) for g in lines], title=title, width=width,
                                           money=kes))
    return Money(title, lines, total, chart, activities)


def programme_money(snapshot: dict, width: float = 500) -> Money | None:
    """A programme's disbursements this financial year against the PMP's annual target of them."""
    budgets = snapshot.get("budgets") or []
    if not budgets:
        return None
    ytd = {r["indicator"]: r for r in snapshot.get("ytd") or []}
    lines = []
    for item in budgets:
        info = snapshot["indicators"][item["indicator"]]
        spent = (ytd.get(item["indicator"]) or {}).get("actual")
        year = charts.snapshot_period(item, "fiscal_year", "fiscal_year_label", short=True)
        if item.get("budget") is None:
            note = _("no budget: %(reason)s", reason=item.get("note") or _("the PMP sets no annual target"))
        elif item.get("source"):
            note = _("budget (PMP target for %(year)s, %(source)s)", year=year, source=item["source"])
        else:
            note = _("budget (PMP target for %(year)s)", year=year)
        lines.append(line(f"{info['short_name']} ({item['indicator']})", item.get("budget"), spent,
                          code=item["indicator"], note=note))
    year = charts.snapshot_period(budgets[0], "fiscal_year", "fiscal_year_label", short=True)
    title = _("Disbursed in %(year)s up to %(period)s, against the PMP's annual target", year=year,
              period=charts.snapshot_period(snapshot))
    chart = charts.data_uri(bc.budget_bars([(g.name, g.budget, g.spent) for g in lines], title=title, width=width,
                                           money=kes, budget_name=_("Budget (PMP annual target)"),
                                           spent_name=_("Disbursed to date")))
    return Money(title, lines, None, chart)
