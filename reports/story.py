"""The story a report opens with: key messages from the figures, the secretariat's commentary,
officers' words as quoted context, recommendations and the actions carried from earlier reports.

Pure: a snapshot (plain data) in, a `Story` out. The service stores the commentary
(`snapshot["commentary"]`), the officers' words (`snapshot["voices"]`) and the actions of earlier
reports (`snapshot["actions"]`) in the snapshot, so they are part of its checksum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports import i18n
from reports.format import achievement, change, headline, percent
from reports.i18n import N_, _, ngettext

ACTION_STATUSES = {"open": N_("Open"), "in_progress": N_("In progress"), "done": N_("Done"), "dropped": N_("Dropped")}
ACTION_SCOPES = ("sector", "programme", "county")
QUOTES_PER_PILLAR = 3
QUOTE_LENGTH = 300
REACH_ICON = "people"  # key figures of people and households reached


@dataclass
class Quote:
    where: str  # "Kisumu, OPCT"
    text: str
    about: str = ""  # the indicator a warning's explanation is about, by name


@dataclass
class PillarStory:
    paragraph: str = ""
    quotes: list[Quote] = field(default_factory=list)


@dataclass
class Action:
    text: str
    owner: str
    due: str
    status: str
    status_label: str
    raised: str
    is_overdue: bool


@dataclass
class Story:
    key_messages: list[str]
    is_edited: bool  # the key messages are the secretariat's, not the generated ones
    pillars: dict[str, PillarStory]
    variance: dict[str, str]  # indicator code -> the secretariat's note on its figure
    recommendations: list[dict]  # text, owner, due (label)
    actions_summary: str
    open_actions: list[Action]
    has_actions: bool

    def pillar(self, code: str) -> PillarStory:
        return self.pillars.get(code) or PillarStory()


def quarter_label(period: str | None, short: bool = False) -> str:
    """A quarter as people read it ("FY2025/26 Q1 (Jul–Sep 2025)", short "FY25/26 Q1"); "–" when there is none."""
    if not period:
        return "–"
    return i18n.period_label(period, short)


def _name(snapshot: dict, code: str) -> str:
    info = snapshot["indicators"].get(code)
    return info["short_name"] if info else code


def _figure_text(row: dict, info: dict, key: str) -> str:
    return headline(row.get(key), info["measure"], info["unit"])


def _status_message(snapshot: dict, rows: list[dict], status: str) -> str:
    """Every indicator of one status, named with its figure, target and achievement (worst first)."""
    mine = sorted((r for r in rows if r.get("status") == status), key=lambda r: r.get("achievement") or 0)
    if not mine:
        return ""
    parts = []
    for row in mine:
        info = snapshot["indicators"][row["indicator"]]
        parts.append(_("%(indicator)s: %(figure)s against a target of %(target)s (%(achievement)s achieved)",
                       indicator=_name(snapshot, row["indicator"]), figure=_figure_text(row, info, "actual"),
                       target=_figure_text(row, info, "target"), achievement=achievement(row.get("achievement"))))
    if status == "off_track":
        return ngettext("%(num)s indicator is off track: %(list)s.", "%(num)s indicators are off track: %(list)s.",
                        len(mine), list="; ".join(parts))
    return ngettext("%(num)s indicator needs attention: %(list)s.", "%(num)s indicators need attention: %(list)s.",
                    len(mine), list="; ".join(parts))


def _none_off_track(rows: list[dict]) -> str:
    measured = [r for r in rows if r.get("status") in ("on_track", "needs_attention", "off_track")]
    if not measured:
        return _("No indicator has both a target and an approved figure this quarter, so none can be rated.")
    if any(r.get("status") == "off_track" for r in measured):
        return ""
    attention = any(r.get("status") == "needs_attention" for r in measured)
    if attention:
        return ngettext("No indicator is off track: %(num)s indicator with a target and a figure was rated.",
                        "No indicator is off track: %(num)s indicators with a target and a figure were rated.",
                        len(measured))
    return ngettext("No indicator is off track: %(num)s indicator with a target and a figure, on track.",
                    "No indicator is off track: %(num)s indicators with a target and a figure, all on track.",
                    len(measured))


def _movement(row: dict, earlier_key: str) -> float | None:
    """How far a figure moved, for ranking only: relative for counts and amounts, points for ratios."""
    now, before = row.get("actual"), row.get(earlier_key)
    if now is None or before is None:
        return None
    if row["_measure"] == "ratio":
        return now - before
    if before == 0:
        return None
    return (now - before) / abs(before) * 100


MOVEMENTS = {  # (rise or fall, against what)
    ("rise", "previous"): N_("Largest rise against last quarter: %(indicator)s, %(figure)s (%(change)s from %(earlier)s)."),
    ("fall", "previous"): N_("Largest fall against last quarter: %(indicator)s, %(figure)s (%(change)s from %(earlier)s)."),
    ("rise", "last_year"): N_("Largest rise against the same quarter last year: %(indicator)s, %(figure)s (%(change)s "
                              "from %(earlier)s)."),
    ("fall", "last_year"): N_("Largest fall against the same quarter last year: %(indicator)s, %(figure)s (%(change)s "
                              "from %(earlier)s)."),
}


def _movement_messages(snapshot: dict, rows: list[dict], earlier_key: str) -> list[str]:
    ranked = []
    for row in rows:
        info = snapshot["indicators"].get(row["indicator"])
        if info is None or row.get("status") == "not_added":
            continue
        moved = _movement({**row, "_measure": info["measure"]}, earlier_key)
        if moved is not None and moved != 0:
            ranked.append((moved, row, info))
    if not ranked:
        return []
    messages = []
    rise = max(ranked, key=lambda item: item[0])
    fall = min(ranked, key=lambda item: item[0])
    for word, (moved, row, info) in (("rise", rise), ("fall", fall)):
        if (word == "rise") != (moved > 0):
            continue
        messages.append(_(MOVEMENTS[word, earlier_key], indicator=_name(snapshot, row["indicator"]),
                          figure=_figure_text(row, info, "actual"),
                          change=change(row["actual"], row[earlier_key], info["measure"]),
                          earlier=_figure_text(row, info, earlier_key)))
    return messages


def _completeness_message(snapshot: dict) -> str:
    overall = (snapshot.get("returns") or {}).get("overall")
    if not overall or not overall.get("expected"):
        return ""
    received, expected = overall["received"], overall["expected"]
    on_time = _("%(count)s by the due date (%(share)s)", count=i18n.number(overall["on_time"]),
                share=percent(overall.get("timeliness")))
    if received >= expected:
        return ngettext("The %(num)s expected return was received, %(on_time)s.",
                        "All %(num)s expected returns were received, %(on_time)s.", expected, on_time=on_time)
    missing = expected - received
    return _("Only %(received)s of %(expected)s were received (%(share)s), %(on_time)s: the figures of the "
             "%(missing)s are not in this report.", received=i18n.number(received),
             expected=ngettext("%(num)s expected return", "%(num)s expected returns", expected),
             share=percent(overall.get("completeness")), on_time=on_time,
             missing=ngettext("%(num)s missing return", "%(num)s missing returns", missing))


def _reach_message(snapshot: dict, key_figures: list) -> str:
    reached = [k for k in key_figures if k.icon == REACH_ICON and k.value != _("not reported")]
    if not reached:
        return ""
    return _("Reached this quarter: %(figures)s.", figures="; ".join(f"{k.label}: {k.value}" for k in reached))


def key_messages(snapshot: dict, key_figures: list | None = None) -> list[str]:
    """The messages a reader should take away, generated from the figures of the snapshot."""
    rows = snapshot.get("results") or []
    messages = [_reach_message(snapshot, key_figures or []),
                _status_message(snapshot, rows, "off_track"), _status_message(snapshot, rows, "needs_attention"),
                _none_off_track(rows)]
    moves = _movement_messages(snapshot, rows, "previous") + _movement_messages(snapshot, rows, "last_year")
    if not moves and rows:
        moves = [_("No figure of last quarter or of the same quarter last year to compare with.")]
    messages += moves
    messages.append(_completeness_message(snapshot))
    return [m for m in messages if m]


def _quotes(snapshot: dict) -> dict[str, list[Quote]]:
    by_pillar: dict[str, list[Quote]] = {}
    for voice in snapshot.get("voices") or []:
        quotes = by_pillar.setdefault(voice.get("pillar", ""), [])
        if len(quotes) >= QUOTES_PER_PILLAR:
            continue
        text = " ".join(str(voice.get("text", "")).split())
        if len(text) > QUOTE_LENGTH:
            text = text[:QUOTE_LENGTH].rsplit(" ", 1)[0] + " [...]"
        about = _name(snapshot, voice["indicator"]) if voice.get("indicator") else ""
        quotes.append(Quote(voice.get("where", ""), text, about))
    return by_pillar


def _actions(snapshot: dict) -> tuple[str, list[Action]]:
    """ "3 of 5 actions from earlier reports done; 2 overdue." and the actions still open."""
    carried = snapshot.get("actions") or []
    if not carried:
        return "", []
    period = snapshot["period"]
    done = sum(1 for a in carried if a["status"] == "done")
    dropped = sum(1 for a in carried if a["status"] == "dropped")
    still = [a for a in carried if a["status"] in ("open", "in_progress")]
    overdue = [a for a in still if a.get("due") and a["due"] <= period]
    summary = ngettext("%(done)s of %(num)s action from earlier reports done",
                       "%(done)s of %(num)s actions from earlier reports done", len(carried), done=i18n.number(done))
    if dropped:
        summary += _(", %(count)s dropped", count=i18n.number(dropped))
    summary += _("; %(count)s overdue.", count=i18n.number(len(overdue))) if overdue else _("; none overdue.")
    rows = [Action(a["text"], a.get("owner") or "–", quarter_label(a.get("due"), short=True), a["status"],
                   _(ACTION_STATUSES[a["status"]]), quarter_label(a.get("raised_period"), short=True), a in overdue)
            for a in sorted(still, key=lambda a: (a.get("due") or "9999", a["text"]))]
    return summary, rows


def tell(snapshot: dict, key_figures: list | None = None) -> Story:
    """The story of a snapshot: its commentary where the secretariat wrote one, else generated messages."""
    commentary = snapshot.get("commentary") or {}
    edited = [m.strip() for m in commentary.get("key_messages") or [] if m and m.strip()]
    quotes = _quotes(snapshot)
    paragraphs = commentary.get("pillars") or {}
    pillars = {p["code"]: PillarStory(paragraphs.get(p["code"], "").strip(), quotes.get(p["code"], []))
               for p in snapshot.get("pillars", [])}
    recommendations = [{"text": r["text"], "owner": r.get("owner") or "–", "due": quarter_label(r.get("due"))}
                       for r in commentary.get("recommendations") or [] if r.get("text")]
    summary, open_actions = _actions(snapshot)
    return Story(key_messages=edited or key_messages(snapshot, key_figures), is_edited=bool(edited),
                 pillars=pillars, variance={k: v.strip() for k, v in (commentary.get("variance") or {}).items()
                                            if v and v.strip()},
                 recommendations=recommendations, actions_summary=summary, open_actions=open_actions,
                 has_actions=bool(snapshot.get("actions")))


def attach(snapshot: dict, key_figures: list, figures: list) -> Story:
    """The story of a report being built; each figure gets the secretariat's variance note, if any."""
    told = tell(snapshot, key_figures)
    for item in figures:
        item.variance = told.variance.get(item.code, "")
    return told


def generated(snapshot: dict) -> list[str]:
    """The key messages generated from a snapshot, as the report would print them without commentary."""
    # The report's own cards; reports.model imports this module, so it is imported here.
    from reports.model import _key_figures

    return key_messages(snapshot, _key_figures(snapshot, snapshot.get("results") or []))
