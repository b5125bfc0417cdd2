"""Demo learning agenda and evidence register: a few questions and items so the pages are not empty.

Everything here is invented for demonstration and says so: the titles end "(demo)", the findings are
plausible orders of magnitude, not results of real studies, and no item has a link (a made-up address
would look real). Written through the same operations as the pages, as the MERL TWG reviewer, so
the audit shows them. Idempotent: a question whose code exists, or an item whose title exists, is
left alone.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.accounts.models import User
from mel.learning import operations
from mel.learning.models import EvidenceItem, LearningQuestion

QUESTIONS = [
    {"code": "LQ01", "nodes": ["O1.1"], "status": "open",
     "question": "Do Inua Jamii payments reach older persons on schedule, and what delays them?",
     "question_sw": "Je, malipo ya Inua Jamii yanawafikia wazee kwa wakati, na nini huyachelewesha?",
     "why": "Payment timeliness (SA11) has been below target in several quarters; the secretariat needs to know "
            "whether the causes are in the payroll, the payment service providers or at the pay points."},
    {"code": "LQ02", "nodes": ["O1.3"], "status": "open",
     "question": "How quickly does the HSNP drought scale-up reach households once the drought trigger is reached?",
     "question_sw": "Malipo ya ziada ya HSNP huwafikia kaya kwa haraka kiasi gani baada ya kiwango cha ukame "
                    "kufikiwa?",
     "why": "Shock-responsive payments protect consumption only if they arrive within weeks of the Vegetation "
            "Condition Index trigger (SA09)."},
    {"code": "LQ03", "nodes": ["O1"], "status": "answered",
     "question": "Do CT-OVC transfers keep children in school and improve household food security?",
     "question_sw": "Je, uhamisho wa fedha wa CT-OVC unawaweka watoto shuleni na kuboresha usalama wa chakula wa kaya?",
     "why": "The programme's objectives for children aged 6–17 are education outcomes; the answer informs the "
            "transfer value review.",
     "answer": "The demo impact evaluation found higher secondary enrolment and food spending among beneficiary "
               "households than in the comparison group (see the evidence below)."},
    {"code": "LQ04", "nodes": ["O3.1"], "status": "open",
     "question": "Are cash-transfer households enrolled in SHA with government-paid premiums, and do they use the "
                 "cover?",
     "question_sw": "",
     "why": "Stated policy is to enrol every Inua Jamii household in SHA (HI04); enrolment without use would not "
            "protect them from health costs."},
]

ITEMS = [
    {"kind": "evaluation", "title": "Inua Jamii Older Persons Cash Transfer (OPCT): process evaluation 2024 (demo)",
     "authors": "Demo evaluation team", "agency": "SDSPSCA", "published_on": date(2024, 11, 15),
     "indicators": ["SA02", "SA11", "SA12"], "nodes": ["O1.1"], "questions": ["LQ01"],
     "key_findings": "Demonstration content, not a real evaluation. Most beneficiaries interviewed were paid within "
                     "the payment window, but payments after the June 2024 enrolment wave ran late in several "
                     "counties while new accounts were opened.\n\nBeneficiaries aged 80 and over often rely on a "
                     "caregiver to withdraw; where the caregiver was not registered, withdrawals within the window "
                     "fell. Travel to the pay point averaged over an hour in arid counties.\n\nThe evaluation "
                     "recommends publishing a payment calendar each quarter and registering a caregiver for every "
                     "beneficiary over 80.",
     "key_findings_sw": "Haya ni maudhui ya mfano, si tathmini halisi. Wanufaika wengi waliohojiwa walilipwa ndani ya "
                        "muda wa malipo, lakini malipo baada ya usajili mkubwa wa Juni 2024 yalichelewa katika kaunti "
                        "kadhaa wakati akaunti mpya zikifunguliwa.\n\nWanufaika wenye umri wa miaka 80 na zaidi mara "
                        "nyingi hutegemea mlezi kutoa pesa; pale mlezi hakusajiliwa, utoaji wa pesa ndani ya muda "
                        "ulipungua.\n\nTathmini inapendekeza kuchapisha ratiba ya malipo kila robo ya mwaka na "
                        "kusajili mlezi kwa kila mnufaika mwenye zaidi ya miaka 80."},
    {"kind": "evaluation", "title": "CT-OVC impact evaluation: endline report (demo)",
     "authors": "Demo research consortium", "agency": "State Department for Children Services",
     "published_on": date(2023, 9, 30), "indicators": ["SA04"], "nodes": ["O1", "O1.2"], "questions": ["LQ03"],
     "key_findings": "Demonstration content, not a real evaluation. Secondary school enrolment of children aged "
                     "14–17 in beneficiary households was higher than in the comparison group, and households "
                     "spent more of the transfer on food and school costs.\n\nEffects were smaller where payments "
                     "arrived late or irregularly; the transfer's real value had fallen since it was last "
                     "revised.",
     "key_findings_sw": "Haya ni maudhui ya mfano, si tathmini halisi. Uandikishaji wa shule za sekondari wa watoto "
                        "wa miaka 14–17 katika kaya zinazonufaika ulikuwa juu kuliko katika kundi la kulinganisha, na "
                        "kaya zilitumia zaidi ya uhamisho kwa chakula na gharama za shule.\n\nMatokeo yalikuwa madogo "
                        "pale malipo yalipochelewa au kutokuwa ya mara kwa mara."},
    {"kind": "policy_brief",
     "title": "Shock-responsive HSNP scale-up: lessons from the 2023 and 2025 droughts (demo policy brief)",
     "authors": "", "agency": "NDMA", "published_on": date(2025, 6, 20), "indicators": ["SA08", "SA09"],
     "nodes": ["O1.3"], "questions": ["LQ02"],
     "key_findings": "Demonstration content, not a real brief. Scale-ups triggered by the Vegetation Condition "
                     "Index reached most targeted households, but the time from trigger to payment varied widely "
                     "between counties.\n\nPre-registered households with active accounts were paid first; "
                     "delays came mostly from confirming the scale-up caseload and releasing contingency funds. "
                     "The brief proposes a pre-approved financing window so that payment follows the trigger "
                     "within the target days.",
     "key_findings_sw": "Haya ni maudhui ya mfano, si taarifa halisi. Malipo ya ziada yaliyoanzishwa na kiwango cha "
                        "ukame (VCI) yaliwafikia kaya nyingi zilizolengwa, lakini muda kati ya kiwango kufikiwa na "
                        "malipo ulitofautiana sana kati ya kaunti.\n\nKaya zilizosajiliwa mapema zenye akaunti hai "
                        "zililipwa kwanza; ucheleweshaji ulitokana hasa na kuthibitisha idadi ya kaya na kutoa fedha "
                        "za dharura."},
    {"kind": "study", "title": "Enrolling cash-transfer households in SHA: a study in four counties (demo)",
     "authors": "Demo study team", "agency": "SHA", "published_on": date(2025, 3, 14),
     "indicators": ["HI03", "HI04"], "nodes": ["O3.1"], "questions": ["LQ04"],
     "key_findings": "Demonstration content, not a real study. About half of the Inua Jamii households visited "
                     "had active SHA cover; the others had not completed registration because of missing "
                     "identity documents or did not know the premium was paid for them.\n\nFew households had "
                     "used the cover in the past year. Joint registration days with county social development "
                     "officers raised enrolment where they were held.",
     "key_findings_sw": ""},
    {"kind": "twg_record", "title": "MERL TWG review of quarterly reporting: record of decisions (demo)",
     "authors": "MERL TWG secretariat", "agency": "SPS", "published_on": date(2025, 8, 26), "with_calendar": True,
     "indicators": ["SPX14", "SPX11"], "nodes": ["O4.4", "O4.3"], "questions": [],
     "key_findings": "Demonstration content. The TWG noted that late county returns delay the sector report and "
                     "agreed to remind officers a week before the due date and to follow up grievance figures "
                     "whose resolution times were missing.",
     "key_findings_sw": "Maudhui ya mfano. Kikundi Kazi cha MERL kilibaini kwamba ripoti za kaunti zinazochelewa "
                        "huchelewesha ripoti ya sekta, na kilikubaliana kuwakumbusha maafisa wiki moja kabla ya "
                        "mwisho wa kuwasilisha."},
]


def load_learning(session: Session, email: str = "reviewer@demo.test", shift: int = 0) -> tuple[int, int]:
    """Add the demo learning questions and evidence items that are not there yet, as the MERL TWG
    reviewer; (questions added, items added). Flushes. The TWG meeting record moves `shift` years with the
    demo's calendar (mel/demo.py DemoCalendar.shift), as its meeting does (mel/meetings/demo.py): it is
    dated a week after that meeting; the studies keep their dates."""
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        return 0, 0
    codes = set(session.scalars(select(LearningQuestion.code)))
    added_questions = 0
    for spec in QUESTIONS:
        if spec["code"] not in codes:
            operations.create_question(session, user, spec)
            added_questions += 1
    titles = set(session.scalars(select(EvidenceItem.title)))
    added_items = 0
    for spec in ITEMS:
        if spec["title"] not in titles:
            published = spec["published_on"]
            if spec.get("with_calendar") and published is not None:
                published = published.replace(year=published.year + shift)
            operations.create_item(session, user, {**spec, "link": "", "published_on": published})
            added_items += 1
    return added_questions, added_items
