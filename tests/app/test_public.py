"""The public results page: anyone may read it, it shows published report runs only (their stored
figures, never live or unapproved data), in English or Kiswahili, cacheable, light and printable."""

from __future__ import annotations

import copy
import gzip
import hashlib
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pdfplumber
import pytest
from sqlalchemy import select

from indicators.compile import Thresholds
from mel.accounts.models import User
from mel.catalogue.lookup import load_catalogue
from mel.public.queries import published_runs
from mel.reporting import operations
from mel.reporting.models import ReportRun
from mel.reporting.operations import speaking_of
from mel.reporting.queries import load_snapshot
from mel.reporting.snapshot import gather
from reports.model import build

PERIOD = "2025Q2"  # the demo's latest approved quarter
QUARTER = "FY2024/25 Q4 (Apr–Jun 2025)"
NEWER = "2025Q3"
NEWER_QUARTER = "FY2025/26 Q1"
PUBLISHED = datetime(2025, 8, 5, 9, 0, tzinfo=UTC)
_gathered: dict[str, bytes] = {}  # kind → the demo snapshot as JSON (the demo data never changes)


def _snapshot(session, kind: str = "factsheet") -> dict:
    if kind not in _gathered:
        snapshot = gather(session, load_catalogue(session), kind=kind, period=PERIOD, thresholds=Thresholds(),
                          generated_at=PUBLISHED)
        _gathered[kind] = json.dumps(snapshot).encode()
    return json.loads(_gathered[kind])


def _changed(snapshot: dict, *, actual: float, period: str | None = None) -> dict:
    """The snapshot with a different SA02 figure (and quarter): figures that must never show."""
    changed = copy.deepcopy(snapshot)
    for row in changed["results"]:
        if row["indicator"] == "SA02":
            row["actual"] = actual
    if period:
        changed["period"] = period
    return changed


def _run(session, tmp_path, *, kind: str = "factsheet", period: str = PERIOD, language: str = "en",
         published: datetime | None = PUBLISHED, snapshot: dict | None = None, **fields) -> ReportRun:
    """A finished run with its stored snapshot and a PDF on disk; published unless `published` is None."""
    snapshot = snapshot if snapshot is not None else _snapshot(session, kind)
    raw = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    pdf = f"%PDF-1.4\n% {kind} {period} {language} {published}\n%%EOF\n".encode()
    path = tmp_path / f"{kind}-{period}-{language}-{hashlib.sha256(pdf).hexdigest()[:8]}.pdf"
    path.write_bytes(pdf)
    values = dict(kind=kind, period=period, language=language, title=f"{kind} {period}", state="done",
                  progress=100, stage="done", file_path=str(path), file_size=len(pdf),
                  sha256=hashlib.sha256(pdf).hexdigest(), snapshot=gzip.compress(raw, mtime=0),
                  snapshot_sha256=hashlib.sha256(raw).hexdigest(), page_count=2, requested_at=PUBLISHED,
                  finished_at=PUBLISHED, data_as_of=PUBLISHED - timedelta(days=3), published_at=published)
    values.update(fields)
    run = ReportRun(**values)
    session.add(run)
    session.flush()
    return run


def _page(client, language: str = "en", **headers) -> tuple[int, str, object]:
    response = client.get("/public", headers={"Accept-Language": language, **headers})
    return response.status_code, response.get_data(as_text=True), response


def _cards(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'<p class="kf-value">(.*?)</p>', page)]


def _expected(run: ReportRun) -> list:
    with speaking_of(run):  # in the run's language, as its PDF
        figures = build(load_snapshot(run), is_draft=False).key_figures
    return figures[:6] if run.kind == "factsheet" else figures


# --------------------------------------------------------------------------- what it shows


def test_with_nothing_published_the_page_says_so(client, session):
    assert not published_runs(session), "the suite's demo database has no published report"
    for language, words in (("en", "Nothing is published yet"), ("sw", "Bado hakuna kilichochapishwa")):
        status, page, _ = _page(client, language)
        assert status == 200 and words in page
        assert 'class="kf"' not in page and "Published reports" not in page


def test_anyone_reads_the_published_fact_sheet_figures_in_english_and_kiswahili(client, session, tmp_path):
    run = _run(session, tmp_path)
    expected = _expected(run)
    assert len(expected) == 6
    status, page, _ = _page(client, "en")
    assert status == 200 and '<html lang="en">' in page
    assert _cards(page) == [k.value for k in expected]
    text = html.unescape(page)
    for k in expected:
        assert k.label in text and k.code in text
        assert (f"Target {k.target}" in text) == (k.status != "no_target"), k.code
        assert f"A year earlier: {k.last_year}" in text
    assert f"Key figures: {QUARTER}" in text
    assert "as published in the quarter’s fact sheet on 05 August 2025" in text
    assert "Nothing is published yet" not in text and "published in English only" not in text

    status, page, _ = _page(client, "sw")
    assert status == 200 and '<html lang="sw">' in page
    assert _cards(page) == [k.value for k in expected]  # the same figures, this page's words in Kiswahili
    text = html.unescape(page)
    assert "Takwimu kuu: Mwaka wa Fedha 2024/25" in text and "Agosti 2025" in text
    assert "imechapishwa kwa Kiingereza pekee" in text  # only the English report is published
    assert client.get("/public?lang=sw", headers={"Accept-Language": "en"}).get_data(as_text=True) == page


def test_the_figures_are_those_of_the_published_fact_sheet_pdf(client, session, app):
    """Generated and published as the secretariat does: the page's cards are the final PDF's."""
    secretariat = session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    run = operations.request_report(session, kind="factsheet", period=PERIOD, trigger="cli")
    session.commit()
    run = operations.execute(session, run.id, app.config)
    operations.publish(session, run, secretariat, app.config)
    session.commit()
    assert run.is_published
    page = _page(client)[1]
    cards = _cards(page)
    assert cards == [k.value for k in _expected(run)]
    pdf = client.get(f"/public/reports/{run.id}.pdf")
    assert pdf.status_code == 200 and hashlib.sha256(pdf.data).hexdigest() == run.sha256
    with pdfplumber.open(io.BytesIO(pdf.data)) as document:
        first = document.pages[0].extract_text()
    assert "DRAFT" not in first
    for value in cards:
        assert value in first, value
    assert f'href="/public/reports/{run.id}.pdf"' in page


def test_nothing_unpublished_ever_shows(client, session, tmp_path):
    published = _run(session, tmp_path)
    # Newer and different figures in every state but published: none of them may show.
    hidden = [
        _run(session, tmp_path, period=NEWER, published=None,
             snapshot=_changed(_snapshot(session), actual=9_876_543, period=NEWER)),  # a draft
        _run(session, tmp_path, period=NEWER, kind="sector", published=None, publish_state="running",
             snapshot=_changed(_snapshot(session, "sector"), actual=9_876_543, period=NEWER)),  # being published
        _run(session, tmp_path, period=NEWER, published=None, publish_state="failed",
             snapshot=_changed(_snapshot(session), actual=9_876_543, period=NEWER)),  # publishing failed
        _run(session, tmp_path, language="sw", published=None,
             snapshot=_changed(_snapshot(session), actual=8_765_432)),  # a Kiswahili draft of the same quarter
    ]
    failed = ReportRun(kind="factsheet", period=NEWER, title="failed", state="failed", stage="failed",
                       error="boom", requested_at=PUBLISHED)
    session.add(failed)
    session.flush()
    hidden.append(failed)
    expected = [k.value for k in _expected(published)]
    for language in ("en", "sw"):
        page = _page(client, language)[1]
        assert _cards(page) == expected
        text = html.unescape(page)
        assert "9.88 million" not in text and "8.77 million" not in text
        assert NEWER_QUARTER not in text and "2025/26" not in text
        for run in hidden:
            assert f"/public/reports/{run.id}.pdf" not in page
            assert client.get(f"/public/reports/{run.id}.pdf").status_code == 404
        assert f"/public/reports/{published.id}.pdf" in page


def test_the_page_prefers_the_report_in_its_language(client, session, tmp_path):
    english = _run(session, tmp_path)
    kiswahili = _run(session, tmp_path, language="sw", snapshot=_changed(_snapshot(session), actual=1_111_111))
    en_page, sw_page = _page(client, "en")[1], _page(client, "sw")[1]
    assert _cards(en_page) == [k.value for k in _expected(english)]
    assert _cards(sw_page) == [k.value for k in _expected(kiswahili)] and "milioni 1.11" in sw_page
    assert "only:" not in html.unescape(en_page) and "pekee:" not in html.unescape(sw_page)
    for page in (en_page, sw_page):  # both listed, each with its language
        assert f"/public/reports/{english.id}.pdf" in page and f"/public/reports/{kiswahili.id}.pdf" in page
    assert "Kiswahili · published 05 August 2025" in html.unescape(en_page)
    assert "Kiingereza · imechapishwa 05 Agosti 2025" in html.unescape(sw_page)


def test_an_english_page_notes_a_report_published_in_kiswahili_only(client, session, tmp_path):
    _run(session, tmp_path, language="sw")
    text = html.unescape(_page(client, "en")[1])
    assert "This quarter’s report is published in Kiswahili only: its figures are shown here, translated." in text


def test_the_latest_published_quarter_is_shown_and_every_published_report_listed(client, session, tmp_path):
    older = _run(session, tmp_path, period="2025Q1", snapshot=_changed(_snapshot(session), actual=2_222_222,
                                                                       period="2025Q1"))
    sector = _run(session, tmp_path, kind="sector")
    county = _run(session, tmp_path, kind="county", org_unit="042", snapshot={"kind": "county"})
    page = _page(client)[1]
    text = html.unescape(page)
    assert _cards(page) == [k.value for k in _expected(sector)]  # a sector report: all eight key figures
    assert len(_cards(page)) == 8 and "2.22 million" not in text
    assert "as published in the quarter’s sector progress report" in text
    assert text.index(QUARTER) < text.index("FY2024/25 Q3 (Jan–Mar 2025)")  # latest quarter first
    for run, title in ((older, "Fact sheet"), (sector, "Sector quarterly progress report"),
                       (county, "County profile: Kisumu County")):
        assert f'href="/public/reports/{run.id}.pdf" type="application/pdf" hreflang="en">{title}</a>' in text


def test_only_county_profiles_published_lists_them_without_key_figures(client, session, tmp_path):
    _run(session, tmp_path, kind="county", org_unit="042", snapshot={"kind": "county"}, snapshot_sha256="")
    page = html.unescape(_page(client)[1])
    assert "No fact sheet or sector progress report is published yet" in page
    assert "County profile: Kisumu County" in page and 'class="kf"' not in page


# --------------------------------------------------------------------------- the county map


def test_the_county_map_shows_the_published_figures_of_all_47_counties(client, session, tmp_path):
    run = _run(session, tmp_path)
    page = _page(client)[1]
    printed = build(load_snapshot(run), is_draft=False).maps[0]
    assert f'<h3 id="map-title">{html.escape(printed.title)}</h3>' in page
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*class="county-map".*?</svg>', page, re.S).group(0)
    assert svg.count("<path fill=") == 47 and 'aria-labelledby="map-title"' in svg
    counts = [int(n) for n in re.findall(r'<span class="count">\((\d+) count', page)]
    assert sum(counts) == 47  # the legend accounts for every county
    rows = re.findall(r'<tr><td>([^<]+)</td><td class="num">([^<]+)</td></tr>', page)
    assert len(rows) == 47 and ("Kisumu", rows[[n for n, _ in rows].index("Kisumu")][1]) in rows
    snapshot = load_snapshot(run)
    kisumu = next(r for r in snapshot["by_county"] if r["indicator"] == printed.code and r["org_unit"] == "042")
    assert dict(rows)["Kisumu"] == f"{kisumu['actual']:,.1f}%"
    assert "© OpenStreetMap contributors" in page and "https://www.openstreetmap.org/copyright" in page


# --------------------------------------------------------------------------- the PDFs


def test_the_download_serves_published_pdfs_only(client, session, tmp_path):
    published = _run(session, tmp_path)
    draft = _run(session, tmp_path, published=None)
    response = client.get(f"/public/reports/{published.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == published.sha256
    assert 'filename="factsheet-2025Q2-en.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"].startswith("public")
    again = client.get(f"/public/reports/{published.id}.pdf", headers={"If-None-Match": f'"{published.sha256}"'})
    assert again.status_code == 304 and not again.data
    for run_id in (draft.id, 999999):
        refused = client.get(f"/public/reports/{run_id}.pdf")
        assert refused.status_code == 404 and b"%PDF" not in refused.data


# --------------------------------------------------------------------------- caching, weight


def test_the_page_is_cacheable_and_answers_304_while_nothing_changed(client, session, tmp_path):
    _run(session, tmp_path)
    status, _, first = _page(client)
    assert status == 200
    assert first.cache_control.public and first.cache_control.max_age > 0
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    assert "Set-Cookie" not in first.headers  # an anonymous visitor gets no session
    tag = first.headers["ETag"]
    status, body, again = _page(client, **{"If-None-Match": tag})
    assert status == 304 and body == "" and again.headers["ETag"] == tag
    assert _page(client, "sw")[2].headers["ETag"] != tag  # one per language
    _run(session, tmp_path, kind="sector")  # a newly published report changes the page
    status, _, changed = _page(client, **{"If-None-Match": tag})
    assert status == 200 and changed.headers["ETag"] != tag


@pytest.mark.parametrize("kind", ["factsheet", "sector"])
def test_the_page_with_its_stylesheet_weighs_under_100_kb(client, session, tmp_path, kind):
    _run(session, tmp_path, kind=kind)
    for language in ("en", "sw"):
        page = client.get("/public", headers={"Accept-Language": language}).data
        text = page.decode()
        assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text) + re.findall(r'<img [^>]*src="([^"]+)"', text)
        assert assets == ["/static/css/public.css"]  # no images, scripts or fonts to fetch
        assert "<script" not in text
        sizes = [len(page)] + [len(client.get(a).data) for a in assets]
        assert sum(sizes) < 100_000, sizes
        assert text.count("<path fill=") == 47


def test_the_stylesheet_prints_the_figures_and_map_without_the_navigation(client):
    css = client.get("/static/css/public.css").get_data(as_text=True)
    printing = css[css.index("@media print"):]
    hidden = re.search(r"\.skip, \.langs, \.signin[^{]*\{ display: none; \}", printing)
    assert hidden and ".kf" not in hidden.group(0) and ".map" not in hidden.group(0)
    assert "break-inside: avoid" in printing


# --------------------------------------------------------------------------- Kiswahili

ENGLISH = ["Social protection in Kenya", "Published reports", "Key figures", "Nothing is published yet",
           "A year earlier", "Target ", "achieved", "County boundaries", "Each county", "No figure",
           "published on", "Per cent", "counties)", "Fact sheet", "Sector quarterly progress report",
           "On track", "Needs attention", "No target", "Skip to content", "Sign in", "This page shows",
           "National Social Protection Secretariat", "pages", "published in English only", "English ·"]


def test_the_kiswahili_page_has_none_of_the_pages_english_words(client, session, tmp_path):
    empty = html.unescape(_page(client, "sw")[1])
    _run(session, tmp_path)
    _run(session, tmp_path, kind="sector")
    _run(session, tmp_path, kind="county", org_unit="042", snapshot={"kind": "county"}, snapshot_sha256="")
    full = html.unescape(_page(client, "sw")[1])
    # The report's own words (key figure labels, the map's title) are the published run's: in English
    # when only English runs are published; the page marks them lang="en".
    model_words = {k.label for k in build(_snapshot(session), is_draft=False).key_figures}
    stripped = full
    for words in model_words:
        stripped = stripped.replace(words, "")
    stripped = re.sub(r'<h3 id="map-title" lang="en">.*?</h3>', "", stripped)
    for page in (empty, stripped):
        found = [words for words in ENGLISH if words in page]
        assert not found, found
    assert '<ul class="figures" lang="en">' in full


def test_a_run_published_in_kiswahili_shows_in_kiswahili_with_the_english_runs_figures(client, session, tmp_path):
    """Both languages published for one quarter: each page shows the run of its language, built in that
    language from its own snapshot, and the two print the same numbers."""
    english = _run(session, tmp_path)
    swahili = _run(session, tmp_path, language="sw",
                   snapshot=gather(session, load_catalogue(session), kind="factsheet", period=PERIOD,
                                   thresholds=Thresholds(), generated_at=PUBLISHED, language="sw"))
    _, en_page, _ = _page(client, "en")
    _, sw_page, _ = _page(client, "sw")
    assert f"/public/reports/{english.id}.pdf" in en_page and f"/public/reports/{swahili.id}.pdf" in sw_page
    assert '<ul class="figures" lang="en">' not in sw_page  # the report's words are the page's language
    assert "Wazee waliolipwa (Inua Jamii 70+)" in html.unescape(sw_page)
    assert "Older persons paid (Inua Jamii 70+)" in html.unescape(en_page)
    number = re.compile(r"\d[\d,.]*\d|\d")
    assert _cards(en_page)
    assert [number.findall(v) for v in _cards(en_page)] == [number.findall(v) for v in _cards(sw_page)]
