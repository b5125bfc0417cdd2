"""Demo users and eight to eleven quarters of plausible, deterministic history up to today.

The demo is written once, for an anchor calendar: the reporting quarter 2025Q3 (FY2025/26), with
its history 2023Q3–2025Q2. For any other date (`as_of`) the same story moves by whole financial
years (`DemoCalendar`): the figures, seeds and events are those of the anchor quarter, stored under
the shifted period. So the demo on 5 October 2025 is the fixed history the tests know, and the
demo on any other day has the same shape around that day's reporting quarter. The open quarter's
returns, queries, current plans and the published report are added by mel/demo_live.py.

The figures are invented for demonstration. Their scale follows public orders of magnitude
(about 1.6 million Inua Jamii beneficiaries after a June enrolment wave of about 570,000, HSNP
about 130,000 households, KES 2,000 a month per beneficiary); county shares follow approximate
2019 census populations. Nothing here is an official statistic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from indicators.periods import Period, parse_period, period_range
from mel import clock
from mel.accounts.models import User
from mel.accounts.operations import create_user
from mel.catalogue.models import (
    DisaggregationSet,
    Indicator,
    OrgUnit,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
)
from mel.errors import MelError
from mel.returns.models import DataValue, Return, ReturnEvent

DEMO_PASSWORD = "demo-password-2025"
DEMO_DOMAIN = "demo.test"
# The anchor calendar: the history as written (quarters, seeds, events) and its reporting quarter.
DEMO_FIRST, DEMO_LAST = "2023Q3", "2025Q2"
ANCHOR_REPORTING = "2025Q3"

# Approximate 2019 census populations (thousands), used only to share national demo figures.
COUNTY_POPULATION_K = {
    "001": 1208, "002": 867, "003": 1454, "004": 316, "005": 144, "006": 341, "007": 841,
    "008": 781, "009": 867, "010": 460, "011": 268, "012": 1546, "013": 393, "014": 609,
    "015": 1136, "016": 1422, "017": 988, "018": 638, "019": 759, "020": 610, "021": 1057,
    "022": 2418, "023": 927, "024": 621, "025": 310, "026": 990, "027": 1163, "028": 454,
    "029": 886, "030": 667, "031": 519, "032": 2162, "033": 1158, "034": 1118, "035": 902,
    "036": 876, "037": 1868, "038": 590, "039": 1671, "040": 894, "041": 993, "042": 1156,
    "043": 1132, "044": 1116, "045": 1267, "046": 606, "047": 4397,
}

FEMALE_SHARE = {"OPCT": 0.57, "CTOVC": 0.72, "PWSD": 0.49, "HSNP": 0.63, "NICHE": 0.88,
                "COUNTY": 0.55, "NSSF": 0.41, "SHA": 0.46, "SPS": 0.51}
AGE_SHARES = {  # A00_17, A18_34, A35_59, A60_69, A70P
    "OPCT": (0, 0, 0, 0, 1),
    "CTOVC": (0.62, 0.10, 0.19, 0.05, 0.04),
    "PWSD": (0.31, 0.24, 0.25, 0.10, 0.10),
    "COUNTY": (0.05, 0.05, 0.15, 0.30, 0.45),
    "NSSF": (0, 0.46, 0.45, 0.07, 0.02),
    "SHA": (0, 0.39, 0.46, 0.10, 0.05),
    "HSNP": (0.45, 0.20, 0.22, 0.07, 0.06),
}

# National level in FY2023/24 Q1 and growth per quarter, by programme and indicator.
STOCKS = {
    ("OPCT", "SA01"): (780_000, 0.012), ("OPCT", "SA02"): (780_000, 0.012),
    ("CTOVC", "SA01"): (410_000, 0.008), ("CTOVC", "SA04"): (410_000, 0.008),
    ("PWSD", "SA01"): (52_000, 0.02), ("PWSD", "SA05"): (52_000, 0.02),
    ("HSNP", "SA07"): (101_000, 0.03), ("NICHE", "SA16"): (9_500, 0.03),
    ("COUNTY", "SA17"): (14_000, 0.02), ("NSSF", "SS01"): (3_150_000, 0.015),
    ("NSSF", "SS02"): (1_850_000, 0.012), ("SHA", "HI01"): (9_300_000, 0.02),
    ("SHA", "HI03"): (820_000, 0.05), ("SPS", "SPX06"): (4_450_000, 0.025),
    ("SPS", "SPX09"): (48_000, -0.03),
}
# The June enrolment wave of the anchor history (570,263 added), spread over the three programmes.
ENROLMENT_JUMP = {"2024Q2": {"OPCT": 0.58, "CTOVC": 0.22, "PWSD": 0.30}}
MONTHLY_TRANSFER = {"OPCT": 2000, "CTOVC": 2000, "PWSD": 2000, "HSNP": 2700, "NICHE": 1000,
                    "COUNTY": 1500}
PAYROLL_INDICATOR = {"OPCT": "SA02", "CTOVC": "SA04", "PWSD": "SA05", "HSNP": "SA07",
                     "NICHE": "SA16", "COUNTY": "SA17", "NSSF": "SS02", "SHA": "HI01"}
# Ratios whose denominator counts events per reporting unit (payment cycles, scale-ups), not people.
PER_UNIT = {"SA11", "SA09"}
DROUGHT_QUARTERS = {"2023Q4": 0.25, "2025Q1": 0.45}
# Indicators that restate another one for a programme (OPCT's Inua Jamii payroll is its 70+ payroll).
# Each programme's Inua Jamii payroll is its own caseload: OPCT's 70+, CT-OVC's households (one
# caregiver paid per household), PWSD-CT's beneficiaries; they share the figures' noise.
SAME_AS = {("OPCT", "SA02"): "SA01", ("CTOVC", "SA04"): "SA01", ("PWSD", "SA05"): "SA01"}


def shift_period(period: str, years: int) -> str:
    """The same quarter, financial year or month `years` years later ("2024Q2", 2 → "2026Q2")."""
    found = parse_period(period)
    return Period(found.type, found.year + years, found.index).id


@dataclass(frozen=True)
class DemoCalendar:
    """Where the demo's story sits for a date: the anchor history moved by whole financial years."""

    as_of: date

    @property
    def reporting(self) -> Period:
        """The quarter officers report on at `as_of`: the last one that ended before it."""
        return clock.reporting_quarter(self.as_of)

    @property
    def shift(self) -> int:
        """Years between the anchor's current financial year (FY2025/26) and this one."""
        return self.reporting.financial_year().year - parse_period(ANCHOR_REPORTING).financial_year().year

    @property
    def history(self) -> list[Period]:
        """From the start of the financial year two before the current one to the last closed quarter."""
        first = parse_period(self.actual(DEMO_FIRST))
        return period_range(first, self.reporting.previous())

    @property
    def current_fy(self) -> str:
        return self.reporting.financial_year().id

    def actual(self, anchor: str) -> str:
        """An anchor period id as it falls in this calendar."""
        return shift_period(anchor, self.shift)

    def anchor(self, period: Period) -> Period:
        """The anchor period whose story (figures, seeds) this calendar's period tells."""
        return parse_period(shift_period(period.id, -self.shift))


@dataclass
class DemoSummary:
    users: list[tuple[str, str]] = field(default_factory=list)
    users_created: int = 0
    returns_created: int = 0
    values_created: int = 0
    pmp_versions: int = 0
    activities: int = 0
    first: str = DEMO_FIRST
    last: str = DEMO_LAST
    live: list[str] = field(default_factory=list)  # what the open quarter got, one phrase each

    def describe(self) -> str:
        if not (self.users_created or self.returns_created or self.pmp_versions or self.activities or self.live):
            return "Demo data already loaded: nothing changed."
        text = (f"Demo: created {self.users_created} users, {self.returns_created} returns and "
                f"{self.values_created} data values ({self.first}–{self.last} approved), {self.pmp_versions} PMP "
                f"versions and {self.activities} work-plan activities.")
        return "\n".join([text, *self.live])


def load_demo(session: Session, as_of: date | None = None, live: bool = True,
              say: Callable[[str], None] | None = None, report: bool = True) -> DemoSummary:
    """Add demo users, the history up to the last closed quarter and its plans; with `live`, also
    the quarter being reported on `as_of` (default: today in the calendar's zone) as people would
    find it that day. Idempotent: what exists is left alone. Flushes; the caller commits (the
    live part's report rendering commits as it goes). `say` is told of the slow step. `report=False`
    leaves out the published sector report (its rendering is most of the live part's time)."""
    if session.scalar(select(ReportingForm.id).limit(1)) is None:
        raise MelError("The catalogue is empty: run `mel seed` before `mel demo`.")
    calendar = DemoCalendar(as_of or clock.today())
    summary = DemoSummary(first=calendar.history[0].id, last=calendar.history[-1].id)
    officers = _demo_users(session, summary)
    _demo_history(session, summary, officers, calendar)
    from mel.plans.demo import load_plans

    summary.pmp_versions, summary.activities = load_plans(session, calendar, current=live)
    if live:
        from mel.demo_live import load_live
        from mel.learning.demo import load_learning

        questions, items = load_learning(session, shift=calendar.shift)  # before the published report (it prints them)
        if questions or items:
            summary.live.append(f"Learning agenda: {questions} demo questions and {items} demo evidence items.")

        load_live(session, calendar, summary, say, report=report)
    from mel.meetings.demo import load_meetings

    meetings = load_meetings(session, calendar)  # after the live part: its evidence and recommendations are linked
    if meetings:
        summary.live.append(f"MERL TWG: {meetings} demo meetings with their decisions and actions.")
    return summary


# The agency of each programme's demo desk, spelt as the demo work plan's lead_agency (mel/plans/demo.py).
DEMO_AGENCIES = {
    "OPCT": "SDSPSCA", "PWSD": "SDSPSCA", "NICHE": "SDSPSCA", "CTOVC": "State Department for Children Services",
    "HSNP": "NDMA", "NSSF": "NSSF", "SHA": "SHA", "SPS": "SPS", "COUNTY": "",
}


def _demo_users(session: Session, summary: DemoSummary) -> dict[str, int]:
    wanted: list[tuple[str, str, str, list[str], list[str]]] = [
        ("secretariat", "secretariat", "Grace Achieng", [], []),
        ("reviewer", "reviewer", "David Kiprono", [], []),
        ("viewer", "viewer", "Mary Njeri", [], []),
    ]
    forms = session.scalars(select(ReportingForm).options(selectinload(ReportingForm.programme)))
    for form in sorted(forms, key=lambda f: f.programme.code):
        code = form.programme.code
        wanted.append((f"officer.{code.lower()}", "officer", f"{code} M&E desk", [code], ["KE"]))
    wanted.append(("officer.kisumu", "officer", "Peter Otieno", ["OPCT", "COUNTY"], ["042"]))
    officers: dict[str, int] = {}
    for local, role, name, programmes, units in wanted:
        email = f"{local}@{DEMO_DOMAIN}"
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(session, email, role, name=name, password=DEMO_PASSWORD,
                               programme_codes=programmes, org_unit_codes=units)
            # Programme desks work for the agency that leads their programme's work-plan activities;
            # the Kisumu county officer has none, so records no work-plan progress.
            if role == "officer" and units == ["KE"]:
                user.agency = DEMO_AGENCIES.get(programmes[0], "")
            summary.users_created += 1
        summary.users.append((email, role))
        if role == "officer" and units == ["KE"]:
            officers[programmes[0]] = user.id
    return officers


def _demo_forms(session: Session) -> list[ReportingForm]:
    """The reporting forms with what the demo generator reads (programme, units, indicators, combos, window)."""
    return list(session.scalars(
        select(ReportingForm).options(
            selectinload(ReportingForm.programme),
            selectinload(ReportingForm.units).selectinload(ReportingFormOrgUnit.org_unit),
            selectinload(ReportingForm.items).selectinload(ReportingFormIndicator.indicator)
            .selectinload(Indicator.disaggregation_set).selectinload(DisaggregationSet.combos),
            selectinload(ReportingForm.windows),
        )
    ))


def _demo_history(session: Session, summary: DemoSummary, officers: dict[str, int],
                  calendar: DemoCalendar) -> None:
    forms = _demo_forms(session)
    existing = set(session.execute(select(Return.programme_id, Return.org_unit_id, Return.period)))
    quarters = calendar.history
    created: list[Return] = []
    for form in forms:
        programme = form.programme.code
        for quarter in quarters:
            weights = _weights(form.org_units_in(quarter.id))
            for unit in form.org_units_in(quarter.id):
                if (form.programme_id, unit.id, quarter.id) in existing:
                    continue
                anchor = calendar.anchor(quarter)
                record = _demo_return(form, unit, quarter, anchor, officers.get(programme))
                session.add(record)
                session.flush()
                rows = []
                for item in form.items_in(quarter.id):
                    rows.extend(_values(record, item.indicator, programme, unit, anchor,
                                        weights[unit.code], period=quarter.id))
                _consistent(rows, form)
                if rows:
                    session.execute(insert(DataValue), rows)
                created.append(record)
                summary.returns_created += 1
                summary.values_created += len(rows)
    _approve(session, created)


def _approve(session: Session, returns: list[Return]) -> None:
    """Walk the demo returns through submission and approval, as the database requires."""
    if not returns:
        return
    ids = [r.id for r in returns]
    for state in ("submitted", "approved"):
        for start in range(0, len(ids), 500):
            session.execute(update(Return).where(Return.id.in_(ids[start:start + 500])).values(state=state))
    events = []
    for record in returns:
        events.append({"return_id": record.id, "from_state": "draft", "to_state": "submitted",
                       "user_id": record.submitted_by_id, "at": record.submitted_at, "channel": "excel"})
        events.append({"return_id": record.id, "from_state": "submitted", "to_state": "approved",
                       "user_id": None, "at": record.approved_at, "channel": "web",
                       "reason": "Approved by the MERL TWG (demo)."})
    session.execute(insert(ReturnEvent), events)
    session.expire_all()


def _weights(units: list[OrgUnit]) -> dict[str, float]:
    if len(units) == 1:
        return {units[0].code: 1.0}
    total = sum(COUNTY_POPULATION_K[u.code] for u in units)
    return {u.code: COUNTY_POPULATION_K[u.code] / total for u in units}


def _demo_return(form: ReportingForm, unit: OrgUnit, quarter: Period, anchor: Period,
                 officer_id: int | None) -> Return:
    """An approved history return for `quarter`, timed as the anchor quarter's (same seed)."""
    rng = random.Random(f"return/{form.code}/{unit.code}/{anchor.id}")
    due = quarter.end + timedelta(days=form.window_days_in(quarter.id)[1])
    submitted = due + timedelta(days=rng.choice([-9, -6, -4, -2, -1, 0, 0, 1, 3, 8]))
    submitted_at = datetime.combine(submitted, time(10, 30), tzinfo=UTC)
    return Return(
        programme_id=form.programme_id, org_unit_id=unit.id, period=quarter.id, form_id=form.id,
        state="draft", version=2, is_late=submitted > due, submitted_at=submitted_at,
        submitted_by_id=officer_id, approved_at=submitted_at + timedelta(days=12),
        narrative=f"{form.programme.code} return for {unit.name}, {quarter.label}.",
    )


def _level(programme: str, code: str, quarter: Period) -> float:
    """National stock at an anchor quarter, with growth and the June enrolment jump."""
    base, growth = STOCKS[(programme, code)]
    index = len(period_range(DEMO_FIRST, quarter.id)) - 1
    level = base * (1 + growth) ** index
    for jump_quarter, shares in ENROLMENT_JUMP.items():
        if quarter >= parse_period(jump_quarter):
            level *= 1 + shares.get(programme, 0) * (0.33 if code in ("SA01", "SA02", "SA04", "SA05") else 0)
    return level


def _payroll(programme: str, quarter: Period) -> float:
    code = PAYROLL_INDICATOR.get(programme)
    return _level(programme, code, quarter) if code else 0.0


def _figures(indicator: Indicator, programme: str, quarter: Period, rng: random.Random) -> dict[str, float] | None:
    """National figures for one indicator: {'value': x} or {'numerator': n, 'denominator': d}."""
    code = indicator.code
    if indicator.frequency == "annual" and quarter.fy_quarter != 4:
        return None
    # Financial years since the anchor history's first (FY2023/24 is 0); the open quarter's is 2.
    fy_index = quarter.financial_year().year - parse_period(DEMO_FIRST).financial_year().year
    noise = 1 + rng.uniform(-0.03, 0.03)
    payroll = _payroll(programme, quarter)
    if (programme, code) in STOCKS:
        return {"value": _level(programme, code, quarter) * noise}
    if code == "SA10":
        return {"value": payroll * MONTHLY_TRANSFER[programme] * 3 * (0.97 + rng.uniform(0, 0.03))}
    if code == "SA14":
        jump = ENROLMENT_JUMP.get(quarter.id, {}).get(programme, 0) * 0.33 * payroll
        return {"value": payroll * 0.012 * noise + jump}
    if code == "SA15":
        return {"value": payroll * 0.009 * noise}
    if code == "SA08":
        return {"value": _level("HSNP", "SA07", quarter) * DROUGHT_QUARTERS.get(quarter.id, 0)}
    if code == "SA13":
        return {"value": 2000 / (1.065 ** (fy_index + 5))}
    if code == "SS03":
        return {"value": _level("NSSF", "SS02", quarter) * 2100 * 3 * noise}
    if code == "HI05":
        return {"value": 255_000 * noise}
    if code == "SPX10":
        return {"value": max(payroll, 1_000_000 if programme in ("NSSF", "SHA") else 0) * 0.004 * noise}
    ratios = {
        "SA11": (3, 0.80 + 0.06 * fy_index),
        "SA12": (payroll, 0.92),
        "SA09": (2 if quarter.id in DROUGHT_QUARTERS else 0, 0.5),
        "SPX08": (payroll, 0.955 + 0.01 * fy_index),
        "SPX11": (max(payroll, 1_000_000 if programme in ("NSSF", "SHA") else 0) * 0.0038, 0.68 + 0.07 * fy_index),
        "SPX12": (max(payroll, 1_000_000 if programme in ("NSSF", "SHA") else 0) * 0.0036, 26 - 4 * fy_index),
        "SPX13": (payroll * 2000 * 12 * 1.07, 0.065),
        "SA03": (1_300_000, _level("OPCT", "SA02", quarter) / 1_300_000),
        "SA06": (880_000, _level("PWSD", "SA05", quarter) / 880_000),
        "SS04": (3_400_000, 0.14 + 0.01 * fy_index),
        "HI02": (53_000_000 + 1_000_000 * fy_index, 0.26 + 0.03 * fy_index),
        "HI04": (_payroll("OPCT", quarter) + _payroll("CTOVC", quarter) + _payroll("PWSD", quarter),
                 0.31 + 0.06 * (len(period_range(DEMO_FIRST, quarter.id)) - 1) / 7),
        "SPX01": (15_100_000_000_000 * (1.09 ** fy_index), 0.0043 + 0.0003 * fy_index),
        "SPX02": (82_000_000_000 * (1.1 ** fy_index), 0.56),
        "SPX03": (82_000_000_000 * (1.1 ** fy_index), 0.21 - 0.02 * fy_index),
        "SPX04": (82_000_000_000 * (1.1 ** fy_index), 0.23 + 0.02 * fy_index),
        "SPX05": (52_400_000 + 900_000 * fy_index, 0.21 + 0.02 * fy_index),
        "SPX07": (12_800_000 + 200_000 * fy_index, _level("SPS", "SPX06", quarter) / (12_800_000 + 200_000 * fy_index)),
        "SPX14": (4.0, 0.82),
    }
    if code in ratios:
        denominator, rate = ratios[code]
        if code == "SPX14":
            return None  # computed from the returns themselves by the review issue's completeness
        rate = min(1.0, rate * (1 + rng.uniform(-0.02, 0.02))) if indicator.factor == 100 else rate
        return {"numerator": denominator * rate, "denominator": denominator}
    return None


def _values(record: Return, indicator: Indicator, programme: str, unit: OrgUnit, quarter: Period,
            weight: float, period: str | None = None) -> list[dict]:
    """One indicator's data-value rows for a return: the anchor `quarter`'s figures, stored under
    `period` (the calendar's quarter; by default the anchor quarter itself)."""
    seed_code = SAME_AS.get((programme, indicator.code), indicator.code)
    rng = random.Random(f"value/{programme}/{unit.code}/{seed_code}/{quarter.id}")
    national = _figures(indicator, programme, quarter, rng)
    if national is None:
        return []
    county_noise = 1 + rng.uniform(-0.04, 0.04)
    scale = 1.0 if indicator.code in PER_UNIT else weight
    figures = {k: v * scale * (county_noise if k != "denominator" else 1) for k, v in national.items()}
    if "numerator" in figures and indicator.factor == 100:
        figures["numerator"] = min(figures["numerator"], figures["denominator"])
    combos = [c for c in indicator.disaggregation_set.combos if not c.is_total]
    rows = []
    for component, amount in figures.items():
        whole = indicator.measure != "amount" or component != "value"
        shares = _shares(combos, programme)
        for combo, part in zip(combos, _split(amount, shares, whole), strict=True):
            rows.append({
                "return_id": record.id, "indicator_id": indicator.id, "component": component,
                "option_combo_id": combo.id, "programme_id": record.programme_id,
                "org_unit_id": unit.id, "period": period or quarter.id, "value": part,
                "updated_by_id": record.submitted_by_id,
            })
    return rows


def _consistent(rows: list[dict], form: ReportingForm) -> None:
    """Make one return's figures that count the same people agree, as a programme's MIS would:
    the coverage numerators are the payroll (SA03.N = SA02, SA06.N = SA05 by sex), and the
    active beneficiaries behind the ID-validation share (SPX08.D) are the beneficiaries paid
    (SA01, or HSNP's households SA07), its numerator keeping its share."""
    # Code lookups only: every indicator the form has ever carried (the rows are of one quarter).
    codes = {item.indicator.id: item.indicator.code for item in form.items}
    combos = {c.id: c.code for item in form.items for c in item.indicator.disaggregation_set.combos}
    at: dict[tuple[str, str, str], dict] = {
        (codes[r["indicator_id"]], r["component"], combos[r["option_combo_id"]]): r for r in rows}

    def total(code: str, sex: str | None = None) -> Decimal | None:
        found = [r["value"] for (c, comp, option), r in at.items()
                 if c == code and comp == "value" and (sex is None or option.split("_")[0] == sex)]
        return sum(found, Decimal(0)) if found else None

    for ratio, payroll in (("SA03", "SA02"), ("SA06", "SA05")):
        for (code, component, option), row in at.items():
            if code == ratio and component == "numerator" and total(payroll, option) is not None:
                denominator = at[(code, "denominator", option)]["value"]
                row["value"] = min(total(payroll, option), denominator)
    paid = total("SA01") if total("SA01") is not None else total("SA07")
    numerator, denominator = at.get(("SPX08", "numerator", "default")), at.get(("SPX08", "denominator", "default"))
    if paid is not None and numerator and denominator and denominator["value"] > 0:
        share = numerator["value"] / denominator["value"]
        denominator["value"] = paid
        numerator["value"] = min(paid, (paid * share).to_integral_value())


def return_figures(form: ReportingForm, unit: OrgUnit, quarter: Period, period: str | None = None) -> list[dict]:
    """One complete, consistent return as an officer's MIS would send it, figures generated for
    `quarter`'s position in the financial year: [{"indicator": "SA03.N", "option": "F", "value": "12"}].
    The indicators and org units are the form's of `period`, the return's quarter (default `quarter`).
    Used by the live demo (mel/demo_live.py) and by bench/rush.py."""
    from types import SimpleNamespace

    from indicators.figures import figure_code

    record = SimpleNamespace(id=0, programme_id=form.programme_id, submitted_by_id=None)
    rows: list[dict] = []
    asked = period or quarter.id
    weight = _weights(form.org_units_in(asked))[unit.code]
    for item in form.items_in(asked):
        rows.extend(_values(record, item.indicator, form.programme.code, unit, quarter, weight))
    _consistent(rows, form)
    codes = {item.indicator.id: item.indicator.code for item in form.items}
    combos = {c.id: c.code for item in form.items for c in item.indicator.disaggregation_set.combos}
    return [{"indicator": figure_code(codes[r["indicator_id"]], r["component"]), "code": codes[r["indicator_id"]],
             "component": r["component"], "option": combos[r["option_combo_id"]], "value": str(Decimal(r["value"]))}
            for r in rows]


def _shares(combos, programme: str) -> list[float]:
    female = FEMALE_SHARE.get(programme, 0.5)
    ages = AGE_SHARES.get(programme, (0.2,) * 5)
    age_codes = ("A00_17", "A18_34", "A35_59", "A60_69", "A70P")
    shares = []
    for combo in combos:
        share = 1.0
        parts = combo.code.split("_", 1)
        if parts[0] in ("F", "M"):
            share *= female if parts[0] == "F" else 1 - female
            if len(parts) > 1:
                share *= ages[age_codes.index(parts[1])]
        shares.append(share)
    return shares


def _split(amount: float, shares: list[float], whole: bool) -> list[Decimal]:
    """Share an amount over cells so the parts add up exactly (largest remainder)."""
    total_share = sum(shares) or 1.0
    if not whole:
        parts = [Decimal(str(round(amount * s / total_share, 2))) for s in shares]
        return parts
    target = round(amount)
    raw = [amount * s / total_share for s in shares]
    floors = [int(x) for x in raw]
    remainder = target - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)
    for i in order[: max(0, remainder)]:
        floors[i] += 1
    return [Decimal(v) for v in floors]
