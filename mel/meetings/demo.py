"""Demo MERL TWG meetings: two past quarterly reviews with decisions and actions (some overdue, some
done, one dropped) and the next one planned, written for the demo's anchor calendar.

On 5 October 2025 (the anchor: July–September 2025 being reported) the reviews of January–March
2025 (held in May) and of April–June (held in August) are past; three of their actions are
overdue, one falls due at the end of October, and the next review is planned for November. Another
date moves them by whole financial years with the rest of the demo (mel/demo.py DemoCalendar); a
planned meeting whose day has passed by then is planned three weeks ahead instead. Everything is invented for
demonstration. Idempotent: a meeting whose title exists is left alone. Written as rows (like the
demo's history), so the audit log does not claim anyone typed them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.periods import parse_period
from mel.accounts.models import User
from mel.catalogue.lookup import load_catalogue
from mel.demo import DEMO_DOMAIN, DemoCalendar
from mel.errors import MelError
from mel.learning.models import EvidenceItem
from mel.meetings import links
from mel.meetings.models import Attendee, Decision, Meeting, MeetingAction
from mel.reporting.actions import ReportAction
from mel.returns.operations import find_return

QUARTER_MONTHS = ("Jan–Mar", "Apr–Jun", "Jul–Sep", "Oct–Dec")
VENUE = "NSPS boardroom, Social Security House, Nairobi"
EXTERNAL = [("Wanjiru Mwangi", "UNICEF Kenya", True), ("James Odhiambo", "World Bank", False),
            ("Amina Hassan", "WFP", True), ("Joseph Kamau", "KNBS", True)]

# The demo evidence register's TWG meeting record (mel/learning/demo.py, dated a week after it): the record of
# one meeting.
RECORD_TITLE = "MERL TWG review of quarterly reporting: record of decisions (demo)"

# Anchor dates (the calendar of 5 October 2025); each meeting: title, date, status, quarter reviewed,
# agenda, accounts present (local parts), the external people, decisions, actions.
MEETINGS = [
    {
        "title": "MERL TWG quarterly review of {2025Q1}", "held_on": date(2025, 5, 20), "status": "held",
        "period": "2025Q1",
        "agenda": ["Opening and adoption of the agenda", "Matters arising from the last meeting",
                   "Returns of {2025Q1}: completeness, timeliness and data quality",
                   "Draft sector progress report for {2025Q1}", "Any other business"],
        "accounts": ["secretariat", "reviewer", "officer.opct", "officer.hsnp"], "apologies": ["officer.kisumu"],
        "external": EXTERNAL[:3],
        "decisions": ["The sector progress report for {2025Q1} is approved for publication once the HSNP drought "
                      "scale-up figures are confirmed with NDMA.",
                      "Programmes that submit late two quarters running present a catch-up plan at the next "
                      "meeting."],
        "minutes": "The chair welcomed members and the agenda was adopted without change.\n\n"
                   "Returns: 46 of 47 county returns for OPCT arrived by the due date; the HSNP returns for Turkana "
                   "and Marsabit show drought scale-up payments well above the previous quarter, which the TWG "
                   "asked NDMA to confirm before publication.\n\n"
                   "The draft sector report was reviewed section by section (decision 1). UNICEF offered to share "
                   "the NICHE pilot evaluation when final.",
        "actions": [
            {"text": "Confirm the HSNP drought scale-up figures for Turkana and Marsabit with NDMA before the report "
                     "is published.", "owner": "officer.hsnp", "due_on": date(2025, 6, 13), "status": "done",
             "done_on": date(2025, 6, 10), "decision": 1,
             "progress": "Confirmed against the NDMA payment files; the figures stand.",
             "returns": [("HSNP", "023", "2025Q1"), ("HSNP", "010", "2025Q1")], "indicators": ["SA07", "SA09"]},
            {"text": "Share the final NICHE nutrition counselling pilot evaluation with the TWG and add it to the "
                     "evidence register.", "owner": "secretariat", "due_on": date(2025, 7, 31), "status": "in_progress",
             "progress": "Draft received from UNICEF in July; the final version is expected in October.",
             "indicators": ["SA16"], "evidence": True},
        ],
    },
    {
        "title": "MERL TWG quarterly review of {2025Q2}", "held_on": date(2025, 8, 19), "status": "held",
        "period": "2025Q2", "record": RECORD_TITLE,
        "agenda": ["Opening and adoption of the agenda", "Matters arising: actions of the May meeting",
                   "Returns of {2025Q2} and the annual figures", "Data-quality checks for ratio indicators",
                   "Preparation of the annual sector review", "Any other business"],
        "accounts": ["secretariat", "reviewer", "officer.opct", "officer.kisumu", "viewer"], "apologies": ["officer.hsnp"],
        "external": EXTERNAL,
        "decisions": ["Adopt the revised data-quality checks for ratio indicators from the returns of {2025Q3} on.",
                      "The secretariat circulates the draft annual sector review report by the end of September.",
                      "County M&E officers are trained on the MEL service before the reporting window of {2025Q3} opens."],
        "minutes": "Members reviewed the actions of the May meeting: the HSNP figures were confirmed; the NICHE "
                   "evaluation is still awaited.\n\n"
                   "OPCT payments reaching beneficiaries within the payment window (SA11) fell in Q4; the OPCT desk "
                   "will explain the drop in its return narrative. The TWG agreed the revised ratio checks "
                   "(decision 1) and the timetable of the annual review (decision 2).\n\n"
                   "KNBS noted that county population projections for 2025 will be published with the Economic "
                   "Survey.",
        "actions": [
            {"text": "Explain the drop in OPCT payments reaching beneficiaries on time (SA11) in the narrative of the "
                     "{2025Q2} return.", "owner": "officer.opct", "due_on": date(2025, 9, 15), "status": "open",
             "returns": [("OPCT", "042", "2025Q2")], "indicators": ["SA11"], "recommendation": True},
            {"text": "Circulate the draft annual sector review report to TWG members.", "owner": "secretariat",
             "due_on": date(2025, 9, 30), "status": "open", "decision": 2},
            {"text": "Train Kisumu county M&E officers on entering and uploading returns in the MEL service.",
             "owner": "officer.kisumu", "due_on": date(2025, 10, 31), "status": "in_progress", "decision": 3,
             "progress": "Training booked for 21 October at the county offices."},
            {"text": "Test the revised ratio-indicator checks against two quarters of history.", "owner": "reviewer",
             "due_on": date(2025, 9, 5), "status": "done", "done_on": date(2025, 9, 3), "decision": 1,
             "progress": "Tested on 2025Q1 and 2025Q2: four warnings more, all explained by the programmes."},
            {"text": "Request county population projections for 2025 from KNBS.", "owner": "reviewer",
             "due_on": date(2025, 9, 30), "status": "dropped",
             "progress": "Not needed: KNBS publishes them with the Economic Survey."},
        ],
    },
    {
        "title": "MERL TWG quarterly review of {2025Q3}", "held_on": date(2025, 11, 18), "status": "planned",
        "period": "2025Q3",
        "agenda": ["Opening and adoption of the agenda", "Matters arising: actions of the August meeting",
                   "Returns of {2025Q3}: completeness, timeliness and data quality",
                   "Draft sector progress report for {2025Q3}", "Any other business"],
        "accounts": [], "apologies": [], "external": [], "decisions": [], "minutes": "", "actions": [],
    },
]


def _moved(day: date, years: int) -> date:
    return day.replace(year=day.year + years)


def load_meetings(session: Session, calendar: DemoCalendar) -> int:
    """Add the demo meetings not there yet; returns how many were added. Flushes."""
    users = {u.email.split("@")[0]: u for u in session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")))}
    if "secretariat" not in users:
        return 0
    catalogue = load_catalogue(session)
    existing = set(session.scalars(select(Meeting.title)))
    evidence = session.scalar(select(EvidenceItem.id).where(EvidenceItem.withdrawn_at.is_(None))
                              .order_by(EvidenceItem.id).limit(1))
    recommendation = session.scalar(select(ReportAction.id).order_by(ReportAction.id).limit(1))
    added = 0
    for spec in MEETINGS:
        title = _words(spec["title"], calendar)
        if title in existing:
            continue
        author = users["secretariat"]
        held_on = _moved(spec["held_on"], calendar.shift)
        if spec["status"] == "planned" and held_on <= calendar.as_of:  # a later day of the year: still ahead
            held_on = calendar.as_of + timedelta(days=21)
        meeting = Meeting(title=title, held_on=held_on, venue=VENUE,
                          status=spec["status"], period=calendar.actual(spec["period"]),
                          agenda=[_words(item, calendar) for item in spec["agenda"]], minutes=spec["minutes"], created_by_id=author.id, updated_by_id=author.id)
        meeting.attendees = (
            [Attendee(user_id=users[name].id, present=True) for name in spec["accounts"] if name in users]
            + [Attendee(user_id=users[name].id, present=False) for name in spec["apologies"] if name in users]
            + [Attendee(name=name, organisation=organisation, present=present)
               for name, organisation, present in spec["external"]])
        meeting.decisions = [Decision(number=n, text=_words(words, calendar))
                             for n, words in enumerate(spec["decisions"], 1)]
        meeting.actions = []
        session.add(meeting)
        session.flush()
        numbers = {d.number: d.id for d in meeting.decisions}
        for item in spec["actions"]:
            owner = users.get(item["owner"], author)
            action = MeetingAction(
                meeting_id=meeting.id, text=_words(item["text"], calendar), owner_id=owner.id,
                due_on=_moved(item["due_on"], calendar.shift), status=item["status"], progress=item.get("progress", ""),
                done_on=_moved(item["done_on"], calendar.shift) if item.get("done_on") else None,
                decision_id=numbers.get(item.get("decision", 0)), created_by_id=author.id, updated_by_id=author.id)
            session.add(action)
            session.flush()
            links.replace(session, action.id, "returns", _returns(session, catalogue, calendar, item.get("returns", [])))
            links.replace(session, action.id, "indicators",
                          [catalogue.indicators[c].id for c in item.get("indicators", []) if c in catalogue.indicators])
            if item.get("evidence") and evidence:
                links.replace(session, action.id, "evidence", [evidence])
            if item.get("recommendation") and recommendation:
                links.replace(session, action.id, "recommendations", [recommendation])
        added += 1
    session.flush()
    link_record(session, calendar)
    return added


def link_record(session: Session, calendar: DemoCalendar) -> bool:
    """Point the demo register's TWG meeting record at its demo meeting when both are there and the record
    points nowhere yet; whether it did."""
    spec = next(m for m in MEETINGS if m.get("record"))
    record = session.scalar(select(EvidenceItem).where(EvidenceItem.title == spec["record"],
                                                       EvidenceItem.meeting_id.is_(None)))
    meeting = session.scalar(select(Meeting).where(Meeting.title == _words(spec["title"], calendar)))
    if record is None or meeting is None:
        return False
    record.meeting_id = meeting.id
    session.flush()
    return True


def _words(text: str, calendar: DemoCalendar) -> str:
    """A demo text with its quarters ("{2025Q2}") as they fall in the calendar, in words: "Apr–Jun 2025".
    (Plain English words: the demo's records are typed text, not labels the pages translate.)"""
    def quarter(match: re.Match) -> str:
        period = parse_period(calendar.actual(match.group(1)))
        return f"{QUARTER_MONTHS[period.index - 1]} {period.year}"

    return re.sub(r"\{(\d{4}Q[1-4])\}", quarter, text)


def _returns(session: Session, catalogue, calendar: DemoCalendar, addresses: list[tuple[str, str, str]]) -> list[int]:
    found = []
    for programme, unit, period in addresses:
        try:
            address = find_return(session, catalogue, programme, unit, calendar.actual(period))
        except MelError:
            continue
        if address.record is not None:
            found.append(address.record.id)
    return found
