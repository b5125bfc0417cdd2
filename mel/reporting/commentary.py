"""The secretariat's commentary on a draft report, and the officers' words the report quotes.

The commentary (key messages, a paragraph per pillar, variance notes per indicator,
recommendations) is stored in the run's snapshot, so it is part of the data checksum
(`snapshot_sha256`) and prints wherever the snapshot is rendered. Saving it re-stores the
snapshot and queues the draft to render again; a published run refuses any change.
"""

from __future__ import annotations

from itertools import zip_longest

from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.messages import N_, message, text
from mel.accounts import audit
from mel.catalogue.lookup import Catalogue
from mel.converters import is_digits
from mel.db import utcnow
from mel.errors import Conflict, Forbidden, ValidationFailed
from mel.reporting import actions
from mel.reporting.models import ReportRun
from mel.reporting.queries import day_words, is_publishing, load_snapshot, state_words
from mel.returns.models import Return, ValueFlag
from mel.scopes import can_administer
from reports.story import QUOTES_PER_PILLAR, generated

MESSAGE_LIMIT, MESSAGES = 1000, 15
PARAGRAPH_LIMIT = 4000
NOTE_LIMIT = 1000
RECOMMENDATIONS = 20
# What a pillar's or an indicator's notes must be, said with the field they came from.
NOTES_WORDS = {
    "pillar": (N_("%(field)s: an object of pillar codes and texts."),
               N_("%(field)s: not a pillar of this report (one of %(codes)s).")),
    "indicator": (N_("%(field)s: an object of indicator codes and texts."),
                  N_("%(field)s: not a indicator of this report (one of %(codes)s).")),
}


def voices(session: Session, catalogue: Catalogue, *, period: str, programme: str, org_unit: str) -> list[dict]:
    """A few officers' narratives and explanations of warnings per pillar, from the approved returns
    of the report's quarter and scope: {pillar, where ("Kisumu, OPCT"), text, indicator}."""
    query = select(Return).where(Return.period == period, Return.state == "approved")
    if programme != "ALL":
        query = query.where(Return.programme_id == catalogue.programmes[programme].id)
    if org_unit != "KE":
        query = query.where(Return.org_unit_id == catalogue.org_units[org_unit].id)
    returns = {r.id: r for r in session.scalars(query)}
    programmes, units = catalogue.programme_by_id, catalogue.org_unit_by_id

    def where(record: Return) -> str:
        return f"{units[record.org_unit_id].name}, {programmes[record.programme_id].code}"

    narratives: dict[str, list[dict]] = {}
    for record in returns.values():
        text = " ".join((record.narrative or "").split())
        if text:
            pillar = catalogue.pillar_codes.get(programmes[record.programme_id].pillar_id, "")
            narratives.setdefault(pillar, []).append({"pillar": pillar, "where": where(record), "text": text,
                                                      "indicator": ""})
    explained: dict[str, list[dict]] = {}
    if returns:
        flags = session.scalars(select(ValueFlag).where(ValueFlag.return_id.in_(list(returns)),
                                                        ValueFlag.explanation != "").order_by(ValueFlag.id))
        seen = set()
        for flag in flags:
            text = " ".join(flag.explanation.split())
            indicator = catalogue.indicator_by_id.get(flag.indicator_id) if flag.indicator_id else None
            key = (flag.return_id, flag.indicator_id, text)
            if not text or key in seen:
                continue
            seen.add(key)
            pillar = catalogue.pillar_codes.get(indicator.pillar_id, "") if indicator else \
                catalogue.pillar_codes.get(programmes[returns[flag.return_id].programme_id].pillar_id, "")
            explained.setdefault(pillar, []).append({"pillar": pillar, "where": where(returns[flag.return_id]),
                                                     "text": text, "indicator": indicator.code if indicator else ""})
    chosen = []
    for pillar in sorted(set(narratives) | set(explained)):
        # The fullest words first; explanations and narratives alternate so both are heard.
        said = [_varied(sorted(group.get(pillar, []), key=lambda v: (-len(v["text"]), v["where"])))
                for group in (explained, narratives)]
        mixed = [v for pair in zip_longest(*said) for v in pair if v is not None]
        chosen += mixed[:QUOTES_PER_PILLAR]
    return chosen


def _varied(said: list[dict]) -> list[dict]:
    """Words from as many programmes and places as there are, before a second from any of them."""
    first, rest, heard = [], [], set()
    for voice in said:
        place, programme = voice["where"].rsplit(", ", 1)
        if place in heard or programme in heard:
            rest.append(voice)
        else:
            first.append(voice)
            heard |= {place, programme}
    return first + rest


def story_part(session: Session, catalogue: Catalogue, *, kind: str, period: str, programme: str,
               org_unit: str) -> dict:
    """The snapshot's part for the story: officers' words and the actions carried from earlier reports."""
    return {"voices": voices(session, catalogue, period=period, programme=programme, org_unit=org_unit),
            "actions": actions.carried(session, kind=kind, period=period, programme=programme, org_unit=org_unit)}


def of_run(run: ReportRun) -> dict:
    """The commentary of a run as the form and the API show it: the saved one, or the generated key
    messages to start from."""
    if run.snapshot is None:
        return {"key_messages": [], "pillars": {}, "variance": {}, "recommendations": [], "is_saved": False,
                "generated": []}
    snapshot = load_snapshot(run)
    made = generated(snapshot)
    saved = snapshot.get("commentary")
    body = {"key_messages": made, "pillars": {}, "variance": {}, "recommendations": [], **(saved or {})}
    return {**body, "is_saved": saved is not None, "generated": made}


def _texts(value, field: str, limit: int, most: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(text(message(N_("%(field)s: a list of texts."), field=field)))
    texts = [v.strip() for v in value if v.strip()]
    if len(texts) > most:
        raise ValidationFailed(text(message(N_("%(field)s: at most %(most)s; %(count)s were sent."), field=field,
                                            most=most, count=len(texts))))
    for number, typed in enumerate(texts, 1):
        if len(typed) > limit:
            raise ValidationFailed(text(message(N_("%(field)s: at most %(limit)s characters; it has %(count)s."),
                                                field=f"{field}[{number}]", limit=f"{limit:,}", count=f"{len(typed):,}")))
    return texts


def _notes(value, field: str, known: set[str], limit: int, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationFailed(text(message(NOTES_WORDS[what][0], field=field)))
    notes = {}
    for code, typed in value.items():
        if code not in known:
            raise ValidationFailed(text(message(NOTES_WORDS[what][1], field=f"{field}.{code}",
                                                codes=", ".join(sorted(known)))))
        if not isinstance(typed, str):
            raise ValidationFailed(text(message(N_("%(field)s: a text."), field=f"{field}.{code}")))
        if len(typed.strip()) > limit:
            raise ValidationFailed(text(message(N_("%(field)s: at most %(limit)s characters; it has %(count)s."),
                                                field=f"{field}.{code}", limit=f"{limit:,}",
                                                count=f"{len(typed.strip()):,}")))
        if typed.strip():
            notes[code] = typed.strip()
    return notes


def _recommendations(value) -> list[dict]:
    if not isinstance(value, list) or len(value) > RECOMMENDATIONS:
        raise ValidationFailed(text(message(N_("recommendations: a list of at most %(most)s {text, owner, due} "
                                               "objects."), most=RECOMMENDATIONS)))
    found = []
    for number, item in enumerate(value, 1):
        where = f"recommendations[{number}]"
        if not isinstance(item, dict):
            raise ValidationFailed(text(message(N_("%(field)s: an object with text, owner and due."), field=where)))
        typed, owner, due = item.get("text"), item.get("owner") or "", item.get("due") or None
        if not isinstance(typed, str) or not isinstance(owner, str) or (due is not None and not isinstance(due, str)):
            raise ValidationFailed(text(message(N_("%(field)s: text, owner and due are texts."), field=where)))
        if not typed.strip():
            if owner.strip() or due:
                raise ValidationFailed(text(message(N_("%(field)s: write the recommendation; only its owner or due "
                                                       "quarter was given."), field=f"{where}.text")))
            continue
        if len(typed.strip()) > actions.TEXT_LIMIT or len(owner.strip()) > actions.OWNER_LIMIT:
            raise ValidationFailed(text(message(N_("%(field)s: text at most %(text_limit)s characters, owner "
                                                   "%(owner_limit)s."), field=where,
                                                text_limit=f"{actions.TEXT_LIMIT:,}", owner_limit=actions.OWNER_LIMIT)))
        found.append({"text": typed.strip(), "owner": " ".join(owner.split()),
                      "due": actions.quarter_in(due, f"{where}.due") if due else None})
    return found


def save(session: Session, run: ReportRun, user, payload: dict) -> ReportRun:
    """Store the commentary in a finished draft's snapshot (new checksum) and queue it to render again.

    The caller commits and starts the render (mel/reporting/executor.start)."""
    if not can_administer(user):
        raise Forbidden(text(message(N_("Only the secretariat writes the commentary of a report."))))
    if run.is_published:
        raise Conflict(text(message(N_("Report run %(id)s is published (on %(date)s); its commentary cannot change. "
                                       "Generate a new report to say something else."), id=run.id,
                                    date=day_words(run.published_at))))
    if run.snapshot is None or run.state != "done":
        raise Conflict(text(message(N_("Report run %(id)s is %(state)s; commentary is written on a finished draft."),
                                    id=run.id, state=state_words(run.state))))
    if is_publishing(run):
        raise Conflict(text(message(N_("Report run %(id)s is being published; its commentary cannot change now. If "
                                       "publishing fails, the draft and its commentary can be changed again."),
                                    id=run.id)))
    from mel.reporting.operations import _store_snapshot  # operations publishes through this module

    snapshot = load_snapshot(run)
    pillars = {p["code"] for p in snapshot.get("pillars", [])}
    indicators = {r["indicator"] for r in snapshot.get("results", [])}
    commentary = {
        "key_messages": _texts(payload.get("key_messages", []), "key_messages", MESSAGE_LIMIT, MESSAGES),
        "pillars": _notes(payload.get("pillars", {}), "pillars", pillars, PARAGRAPH_LIMIT, "pillar"),
        "variance": _notes(payload.get("variance", {}), "variance", indicators, NOTE_LIMIT, "indicator"),
        "recommendations": _recommendations(payload.get("recommendations", [])),
        "updated_at": utcnow().isoformat(), "updated_by": user.email,
    }
    snapshot["commentary"] = commentary
    before = run.snapshot_sha256
    _store_snapshot(run, snapshot)
    run.state, run.progress, run.stage, run.error = "queued", 0, "waiting to start", ""
    session.flush()
    audit.record(session, "report.commentary", actor=user, object=f"report run {run.id}",
                 details={"snapshot_from": before, "snapshot_to": run.snapshot_sha256})
    return run


def publish_recommendations(session: Session, catalogue: Catalogue, run: ReportRun, user) -> None:
    """On publishing: the report's recommendations become open actions of its scope."""
    if run.snapshot is not None:
        actions.raise_recommendations(session, catalogue, user, run, load_snapshot(run).get("commentary") or {})


BLANK_RECOMMENDATIONS = 3


def form_context(run: ReportRun, typed: dict | None = None) -> dict | None:
    """What the run page's commentary form shows: the saved (or just typed) commentary, the generated
    key messages to start from, the pillars and indicators of the report, quarters to be due in."""
    if run.snapshot is None or run.state != "done" or run.is_published:
        return None
    from indicators.periods import parse_period
    from reports.format import STATUS_LABELS

    snapshot = load_snapshot(run)
    current = typed or of_run(run)
    names = snapshot["indicators"]
    rows = sorted(snapshot.get("results", []), key=lambda r: (
        {"off_track": 0, "needs_attention": 1}.get(r.get("status") or "", 2), r["indicator"]))
    quarter = parse_period(run.period)
    recommendations = list(current.get("recommendations") or [])
    return {
        "key_messages": "\n".join(current.get("key_messages") or []),
        "is_saved": bool(typed) or current.get("is_saved", False),
        "has_notes": any((current.get("variance") or {}).values()),
        "pillars": [(p["code"], p["name"], (current.get("pillars") or {}).get(p["code"], ""))
                    for p in snapshot.get("pillars", [])],
        "indicators": [(r["indicator"], names[r["indicator"]]["short_name"],
                        STATUS_LABELS.get(r.get("status") or "not_reported", ""),
                        (current.get("variance") or {}).get(r["indicator"], "")) for r in rows],
        "recommendations": recommendations + [{"text": "", "owner": "", "due": None}] * BLANK_RECOMMENDATIONS,
        "quarters": [(q.id, q.label) for q in (quarter.shift(n) for n in range(1, 9))],
    }


def from_form(form) -> dict:
    """The commentary payload of the run page's form (the same shape as the API's)."""
    numbers = sorted({key.rsplit("_", 1)[1] for key in form if key.startswith("rec_text_")},
                     key=lambda n: int(n) if is_digits(n) else 0)
    return {
        "key_messages": [line.strip() for line in form.get("key_messages", "").splitlines() if line.strip()],
        "pillars": {key[len("pillar_"):]: form[key] for key in form if key.startswith("pillar_")},
        "variance": {key[len("variance_"):]: form[key] for key in form if key.startswith("variance_")},
        "recommendations": [{"text": form.get(f"rec_text_{n}", ""), "owner": form.get(f"rec_owner_{n}", ""),
                             "due": form.get(f"rec_due_{n}") or None} for n in numbers],
    }
