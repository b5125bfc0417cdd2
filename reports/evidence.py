"""What the evidence says: the findings of the evidence register, by pillar, as a report prints them.

Pure: the service puts the register's items linked to each pillar's indicators and results-framework
nodes into the snapshot (`snapshot["evidence"]`: pillar code -> items, newest first, their findings
already in the report's language or marked as English); `for_pillar` makes the block a pillar
section prints. A snapshot without evidence (every snapshot taken before the register existed, and
any sector with nothing linked) gives no block, so the report is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.i18n import N_, _

# The kinds of evidence, in the words pages and reports show (mel/learning/models.py EVIDENCE_KINDS).
EVIDENCE_KINDS = {"evaluation": N_("Evaluation"), "study": N_("Study"), "policy_brief": N_("Policy brief"),
                  "twg_record": N_("TWG meeting record"), "other": N_("Other evidence")}
PER_PILLAR = 5  # the newest items a pillar section prints; the rest are counted
FINDINGS_LENGTH = 900  # characters of an item's key findings a report prints


@dataclass
class EvidenceNote:
    title: str
    kind: str  # the kind in words
    agency: str
    authors: str
    year: str
    findings: list[str] = field(default_factory=list)  # paragraphs
    in_english: bool = False  # a Kiswahili report prints English findings for want of Kiswahili ones


@dataclass
class PillarEvidence:
    notes: list[EvidenceNote]
    more: int  # items linked beyond those printed


def shortened(findings: str, limit: int = FINDINGS_LENGTH) -> list[str]:
    """The findings as paragraphs, cut at a word near `limit` characters with "[...]"."""
    text = (findings or "").strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip() + " [...]"
    return [" ".join(part.split()) for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]


def note(item: dict) -> EvidenceNote:
    published = item.get("published_on") or ""
    return EvidenceNote(title=item.get("title", ""), kind=_(EVIDENCE_KINDS.get(item.get("kind", ""), N_("Other evidence"))),
                        agency=item.get("agency") or "", authors=item.get("authors") or "", year=published[:4],
                        findings=shortened(item.get("findings") or ""), in_english=bool(item.get("in_english")))


def for_pillar(snapshot: dict, code: str, limit: int = PER_PILLAR) -> PillarEvidence | None:
    """The block of one pillar: its newest items (at most `limit`) and how many more; None without any."""
    items = (snapshot.get("evidence") or {}).get(code) or []
    if not items:
        return None
    return PillarEvidence([note(item) for item in items[:limit]], max(0, len(items) - limit))
