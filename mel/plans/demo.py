"""Demo plans: PMPs with plausible targets and sector work plans, written for the anchor calendar.

The anchor history has PMPs for FY2023/24 and FY2024/25 and the FY2024/25 work plan; the open
quarter's year (FY2025/26) adds its PMPs and work plan. Another date moves them by whole financial
years with the history (mel/demo.py DemoCalendar): the same seeds, targets and activities.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from indicators.figures import ratio
from indicators.periods import parse_period
from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.models import Indicator, ResultsNode
from mel.demo import DemoCalendar
from mel.plans import operations
from mel.plans.models import SECTOR, Activity, Pmp, WorkPlan
from mel.returns.models import DataValue

FISCAL_YEARS = ("2023July", "2024July")  # the anchor history's years; the open quarter's is CURRENT_FY
CURRENT_FY = "2025July"
COUNTY_TARGETS = {"HSNP"}  # HSNP sets targets for each of its eight counties
SECTOR_INDICATORS = ("SA10", "SA11", "SA14", "SPX06", "SPX08", "SPX10", "SPX11", "HI01", "HI03", "SS01", "SS02")
ACTIVITIES = [
    ("policy", "Finalise the Social Protection Bill and submit it to Cabinet", "SDSPSCA", "ILO; UNICEF", 18_000_000, "GoK", "2024Q3,2024Q4,2025Q1", "O4"),
    ("policy", "Disseminate the Kenya Social Protection Policy 2023 in all 47 counties", "SPS", "Council of Governors", 24_500_000, "GoK", "2024Q3,2024Q4", "O4"),
    ("policy", "Develop county social protection coordination guidelines", "SPS", "Council of Governors; UNICEF", 9_800_000, "Development partners", "2024Q4,2025Q1", "O4"),
    ("policy", "Review the Inua Jamii targeting and exit guidelines", "SDSPSCA", "World Bank", 12_000_000, "Development partners", "2025Q1,2025Q2", "O1.2"),
    ("policy", "Integrate county-funded schemes into the Enhanced Single Registry", "SPS", "County governments", 15_000_000, "GoK", "2024Q4,2025Q1,2025Q2", "O4.2"),
    ("finance", "Cost the universal child benefit options", "National Treasury", "UNICEF; ILO", 7_500_000, "Development partners", "2024Q3,2024Q4", "O4.1"),
    ("finance", "Produce the social protection budget brief for FY2025/26", "SPS", "National Treasury; UNICEF", 4_200_000, "Development partners", "2025Q1", "O4.1"),
    ("finance", "Track county social protection expenditure in the CoB reports", "SPS", "Controller of Budget", 3_600_000, "GoK", "2024Q4,2025Q2", "O4.1"),
    ("finance", "Move all Inua Jamii payments to the new payment solution", "SDSPSCA", "Payment service providers", 45_000_000, "GoK", "2024Q3,2024Q4,2025Q1,2025Q2", "O1.1"),
    ("finance", "Study NSSF Haba Haba uptake among informal workers", "NSSF", "ILO", 6_000_000, "Member contributions", "2025Q1,2025Q2", "O2.1"),
    ("shock", "Update the HSNP scale-up protocol with the new VCI thresholds", "NDMA", "WFP; FCDO", 8_400_000, "Development partners", "2024Q3,2024Q4", "O1.3"),
    ("shock", "Pre-register households in four additional ASAL counties", "NDMA", "WFP", 32_000_000, "Development partners", "2024Q4,2025Q1,2025Q2", "O1.3"),
    ("shock", "Run a drought-response simulation with county disaster committees", "NDMA", "Kenya Red Cross", 5_500_000, "GoK", "2025Q1", "O1.3"),
    ("shock", "Link the ESR to the county disaster-risk databases", "SPS", "NDMA; WFP", 11_000_000, "Development partners", "2025Q2", "O4.2"),
    ("shock", "Publish the shock-responsive SP financing framework", "National Treasury", "World Bank", 6_800_000, "Development partners", "2025Q2", "O4.1"),
    ("standards", "Roll out NICHE nutrition counselling in two new counties", "SDSPSCA", "UNICEF; MoH", 22_000_000, "Development partners", "2024Q3,2024Q4,2025Q1,2025Q2", "O1.1"),
    ("standards", "Enrol Inua Jamii households in SHA with Government-paid premiums", "SHA", "SDSPSCA", 60_000_000, "GoK", "2024Q3,2024Q4,2025Q1,2025Q2", "O3.1"),
    ("standards", "Develop case-management standards for social workers", "SDSPSCA", "UNICEF", 8_900_000, "Development partners", "2024Q4,2025Q1", "O1.2"),
    ("standards", "Pilot economic inclusion for CT-OVC caregivers", "State Department for Children Services", "World Bank", 27_000_000, "Development partners", "2025Q1,2025Q2", "O1"),
    ("standards", "Harmonise disability assessment with NCPWD for PWSD-CT", "SDSPSCA", "NCPWD", 5_200_000, "GoK", "2024Q3,2024Q4", "O1.2"),
    ("merl", "Launch the sector MEL service and train county M&E officers", "SPS", "UNICEF; county governments", 14_000_000, "Development partners", "2024Q3,2024Q4", "O4.4"),
    ("merl", "Publish quarterly sector progress reports", "SPS", "MERL TWG", 3_000_000, "GoK", "2024Q3,2024Q4,2025Q1,2025Q2", "O4.4"),
    ("merl", "Commission the CT-OVC impact evaluation follow-up survey", "State Department for Children Services", "UNICEF; KNBS", 38_000_000, "Development partners", "2025Q1,2025Q2", "O4.4"),
    ("merl", "Hold the annual social protection sector review", "SPS", "All TWGs", 9_500_000, "GoK", "2025Q2", "O4.4"),
    ("merl", "Validate Single Registry data against IPRS quarterly", "SPS", "IPRS", 4_800_000, "GoK", "2024Q3,2024Q4,2025Q1,2025Q2", "O4.2"),
]
# The work plan of the open quarter's financial year (anchor FY2025/26): the next steps of the above.
CURRENT_ACTIVITIES = [
    ("policy", "Draft the regulations that follow the Social Protection Bill", "SDSPSCA", "ILO; Office of the Attorney-General", 14_000_000, "GoK", "2025Q3,2025Q4,2026Q1", "O4"),
    ("policy", "Adopt county social protection coordination guidelines in ten counties", "SPS", "Council of Governors", 12_500_000, "GoK", "2025Q3,2025Q4,2026Q1,2026Q2", "O4"),
    ("policy", "Apply the revised Inua Jamii exit guidelines at recertification", "SDSPSCA", "World Bank", 9_000_000, "Development partners", "2025Q4,2026Q1", "O1.2"),
    ("finance", "Produce the social protection budget brief for FY2026/27", "SPS", "National Treasury; UNICEF", 4_400_000, "Development partners", "2026Q1", "O4.1"),
    ("finance", "Pay every Inua Jamii beneficiary through the new payment solution", "SDSPSCA", "Payment service providers", 38_000_000, "GoK", "2025Q3,2025Q4,2026Q1,2026Q2", "O1.1"),
    ("finance", "Extend NSSF Haba Haba to two informal-worker associations", "NSSF", "ILO", 7_200_000, "Member contributions", "2025Q4,2026Q1,2026Q2", "O2.1"),
    ("shock", "Pre-position HSNP scale-up funds for the short rains", "NDMA", "WFP; FCDO", 40_000_000, "Development partners", "2025Q3,2025Q4", "O1.3"),
    ("shock", "Test the ESR link with county disaster-risk databases in four counties", "SPS", "NDMA; WFP", 8_000_000, "Development partners", "2025Q4,2026Q1", "O4.2"),
    ("standards", "Train social workers on the case-management standards", "SDSPSCA", "UNICEF", 11_500_000, "Development partners", "2025Q3,2025Q4,2026Q1,2026Q2", "O1.2"),
    ("standards", "Enrol the newly registered Inua Jamii households in SHA", "SHA", "SDSPSCA", 52_000_000, "GoK", "2025Q3,2025Q4,2026Q1,2026Q2", "O3.1"),
    ("merl", "Publish quarterly sector progress reports", "SPS", "MERL TWG", 3_200_000, "GoK", "2025Q3,2025Q4,2026Q1,2026Q2", "O4.4"),
    ("merl", "Validate Single Registry data against IPRS quarterly", "SPS", "IPRS", 5_000_000, "GoK", "2025Q3,2025Q4,2026Q1,2026Q2", "O4.2"),
    ("merl", "Hold the annual social protection sector review", "SPS", "All TWGs", 9_800_000, "GoK", "2026Q2", "O4.4"),
]


def _national(session: Session, programme_id: int | None, indicator: Indicator, period: str,
              unit_id: int | None = None) -> Decimal | None:
    """The demo's national (or one county's) figure: sums, or a ratio of sums."""
    query = select(DataValue.component, func.sum(DataValue.value)).where(
        DataValue.indicator_id == indicator.id, DataValue.period == period)
    if programme_id is not None:
        query = query.where(DataValue.programme_id == programme_id)
    if unit_id is not None:
        query = query.where(DataValue.org_unit_id == unit_id)
    sums = dict(session.execute(query.group_by(DataValue.component)).all())
    if indicator.measure == "ratio":
        value = ratio(sums.get("numerator"), sums.get("denominator"), indicator.factor)
        return None if value is None else Decimal(repr(value))
    return Decimal(sums["value"]) if sums.get("value") is not None else None


def _targets(indicator: Indicator, baseline: Decimal, fy: str, unit: str, rng: random.Random) -> list[dict]:
    quarters = parse_period(fy).quarters()
    growth = Decimal(str(round(rng.uniform(0.01, 0.04), 3)))
    rows = []
    if indicator.measure == "ratio":
        step = Decimal("1.5") if indicator.direction == "increase" else Decimal("-1.0")
        values = [min(Decimal(100) if indicator.factor == 100 else baseline * 2, baseline + step * (i + 1))
                  for i in range(4)]
        year = values[-1]
    elif indicator.time_aggregation == "last":
        values = [baseline * (1 + growth) ** (i + 1) for i in range(4)]
        year = values[-1]
    else:
        quarter = baseline * (1 + growth)
        values = [quarter] * 4
        year = sum(values)
    places = Decimal("0.1") if indicator.measure == "ratio" else Decimal("1")
    values = [v.quantize(places) for v in values]
    year = sum(values) if indicator.time_aggregation == "sum" and indicator.measure != "ratio" else year
    if indicator.frequency == "annual":
        return [{"indicator": indicator.code, "org_unit": unit, "period": fy, "value": str(year.quantize(places))}]
    rows = [{"indicator": indicator.code, "org_unit": unit, "period": q.id, "value": str(v.quantize(places))}
            for q, v in zip(quarters, values, strict=True)]
    rows.append({"indicator": indicator.code, "org_unit": unit, "period": fy, "value": str(year.quantize(places))})
    return rows


def load_plans(session: Session, calendar: DemoCalendar, current: bool = False) -> tuple[int, int]:
    """Add the demo PMPs and work plans of the history's financial years (and, with `current`, of
    the open quarter's); idempotent. Returns (versions, activities) created."""
    catalogue = load_catalogue(session)
    secretariat = load_user(session, "secretariat@demo.test")
    versions = 0
    scopes = sorted(catalogue.programmes) + [SECTOR]
    for anchor_fy in FISCAL_YEARS + ((CURRENT_FY,) if current else ()):
        fy = calendar.actual(anchor_fy)
        before = parse_period(fy).quarters()[0].previous().id
        for scope in scopes:
            pmp = operations.get_pmp(session, catalogue, scope, fy, create=True)
            if pmp.current_version:
                continue
            programme = catalogue.programmes.get(scope)
            codes = (sorted(catalogue.form_indicators(programme.id, fy)) if programme else list(SECTOR_INDICATORS))
            if scope == "SPS":
                codes = [c for c in codes if c.startswith("SPX")]
            content = operations.PlanContent()
            rows = []
            rng = random.Random(f"pmp/{scope}/{anchor_fy}")
            units = ([catalogue.org_units[c] for c in sorted(catalogue.form_org_units(programme.id, fy))]
                     if programme and scope in COUNTY_TARGETS else [catalogue.org_units["KE"]])
            for code in codes:
                indicator = catalogue.indicators[code]
                baseline_period = parse_period(fy).previous().id if indicator.frequency == "annual" else before
                lookup_period = parse_period(fy).quarters()[0].previous().id
                baseline = _national(session, programme.id if programme else None, indicator, lookup_period)
                if baseline is None:
                    # The demo history starts with its first financial year: its plans take a baseline
                    # a little below the first reported quarter (invented, like all demo figures).
                    first = parse_period(fy).quarters()[-1 if indicator.frequency == "annual" else 0].id
                    found = _national(session, programme.id if programme else None, indicator, first)
                    baseline = None if found is None else found * Decimal("0.97")
                content.lines.append({
                    "indicator": code, "baseline_value": None if baseline is None else str(round(baseline, 2)),
                    "baseline_period": baseline_period if baseline is not None else "",
                    "collection_method": indicator.collection_method, "frequency": indicator.frequency,
                    "responsible": f"{scope} M&E lead" if programme else "SPS M&E lead",
                })
                if baseline is None:
                    continue
                for unit in units:
                    unit_baseline = baseline if unit.code == "KE" else (
                        _national(session, programme.id, indicator, lookup_period, unit.id)
                        or _national(session, programme.id, indicator, parse_period(fy).quarters()[0].id, unit.id))
                    if unit_baseline:
                        rows += _targets(indicator, unit_baseline, fy, unit.code, rng)
            content.targets = pd.DataFrame(rows)
            operations.revise(session, catalogue, secretariat, pmp, content, reason="Adopted by the MERL TWG",
                              channel="system")
            versions += 1
    opct = session.scalar(select(Pmp).where(Pmp.scope == "OPCT", Pmp.fiscal_year == calendar.actual("2024July")))
    if opct.current_version == 1:
        current_content = operations.content_of(operations.load_version(session, opct))
        raised = current_content.targets.copy()
        sa02 = raised["indicator"] == "SA02"
        raised.loc[sa02, "value"] = raised.loc[sa02, "value"].map(lambda v: str((Decimal(v) * Decimal("1.3")).quantize(Decimal(1))))
        june = parse_period(calendar.actual("2024Q2")).end.year
        reason = (f"Mid-year review: targets raised after the June {june} enrolment of 570,263 beneficiaries"
                  if calendar.shift == 0 else
                  f"Mid-year review: targets raised after the June {june} enrolment wave (about 570,000 beneficiaries)")
        operations.revise(session, catalogue, secretariat, opct, operations.PlanContent(current_content.lines, raised),
                          reason=reason, channel="system")
        versions += 1
    activities = _work_plan(session, secretariat, calendar, "2024July", ACTIVITIES)
    if current:
        activities += _work_plan(session, secretariat, calendar, CURRENT_FY, CURRENT_ACTIVITIES)
    return versions, activities


def _shift_text(text: str, years: int) -> str:
    """A title naming a financial year ("… for FY2025/26"), moved by `years`."""
    return re.sub(r"FY(\d{4})/(\d{2})",
                  lambda m: f"FY{int(m[1]) + years}/{(int(m[1]) + years + 1) % 100:02d}", text)


def _work_plan(session: Session, secretariat, calendar: DemoCalendar, anchor_fy: str, activities: list) -> int:
    """The sector work plan of one financial year, with progress for the quarters that have ended."""
    fiscal_year = calendar.actual(anchor_fy)
    plan = session.scalar(select(WorkPlan).where(WorkPlan.fiscal_year == fiscal_year))
    if plan is not None:
        return 0
    plan = WorkPlan(fiscal_year=fiscal_year, title=f"Sector joint work plan {parse_period(fiscal_year).fy_label}")
    session.add(plan)
    session.flush()
    nodes = {n.code: n.id for n in session.scalars(select(ResultsNode))}
    counters: dict[str, int] = {}
    statuses = ("on_track", "on_track", "delayed", "completed", "on_track", "not_started")
    ended = [q.id for q in parse_period(anchor_fy).quarters()
             if parse_period(calendar.actual(q.id)) <= calendar.reporting]
    created = 0
    for group, title, lead, partners, budget, source, quarters, node in activities:
        counters[group] = counters.get(group, 0) + 1
        planned = quarters.split(",")
        activity = Activity(plan_id=plan.id, code=f"{group[:3].upper()}-{counters[group]:02d}",
                            title=_shift_text(title, calendar.shift), working_group=group, lead_agency=lead,
                            partners=partners, budget_kes=Decimal(budget), funding_source=source,
                            planned_quarters=",".join(calendar.actual(q) for q in planned),
                            results_node_id=nodes.get(node))
        session.add(activity)
        session.flush()
        created += 1
        rng = random.Random(f"activity/{activity.code}" + ("" if anchor_fy == "2024July" else f"/{anchor_fy}"))
        progress = 0
        for quarter in ended:
            if quarter < planned[0]:
                continue
            progress = min(100, progress + rng.choice((20, 25, 30, 35)))
            finished = quarter >= planned[-1] and rng.random() < 0.7
            status = "completed" if finished else rng.choice(statuses[:3])
            percent = 100 if status == "completed" else min(progress, 90)
            operations.record_progress(
                session, secretariat, activity, calendar.actual(quarter), status=status, percent_complete=percent,
                spend_to_date=str((Decimal(budget) * Decimal(percent) / 100).quantize(Decimal(1))),
                note={"on_track": "Proceeding as planned.", "delayed": "Waiting for funds to be released.",
                      "completed": "Done; report shared with the TWG."}.get(status, ""),
                channel="system")
            if status == "completed":
                break
    return created
