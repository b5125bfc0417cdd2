"""PDF reports: figures read back from the PDF equal the results API; runs, publishing, re-runs."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pdfplumber
import pypdf
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from mel.accounts.operations import create_token
from mel.catalogue.lookup import load_catalogue
from mel.db import db
from mel.reporting import operations, queries
from mel.reporting.models import ReportRun
from mel.reporting.snapshot import gather
from mel.returns.models import Return
from reports.format import achievement, figure, in_millions
from reports.model import build
from reports.render import render_pdf
from tests.helpers import csrf_token

pytestmark = pytest.mark.slow  # WeasyPrint lays out every report; the sector report uses workers

PERIOD = "2025Q2"  # FY2024/25 Q4, the demo's latest approved quarter


@pytest.fixture(scope="module")
def sector(app):
    """The full sector report of the demo's latest quarter: (snapshot, PDF bytes, page count)."""
    with app.app_context():
        session = db.session
        snapshot = gather(session, load_catalogue(session), kind="sector", period=PERIOD,
                          generated_at=datetime(2025, 8, 20, tzinfo=UTC))
        session.rollback()
    rendered = render_pdf(build(snapshot, is_draft=True, reference="test run"), workers=2)
    assert "join" in rendered.timings  # the county annex was laid out in worker processes
    return snapshot, rendered.pdf, rendered.pages


def page_texts(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [page.extract_text() or "" for page in document.pages]


def outline(pdf: bytes) -> list[tuple[int, str, int]]:
    """(level, title, page number) of every bookmark."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                found.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 1)
    return found


def test_sector_report_has_contents_bookmarks_and_page_furniture(sector):
    snapshot, pdf, pages = sector
    texts = page_texts(pdf)
    assert len(texts) == pages and pages >= 47 + 10
    marks = outline(pdf)
    top = [title for level, title, _ in marks if level == 1]
    assert top[:4] == ["Contents", "Key messages", "Executive summary", "Reporting completeness and timeliness"]
    assert {"Social assistance", "Social security", "Health insurance", "Cross-cutting",
            "Joint work plan progress", "Annex 1. Data quality", "Annex 2. Notes on method",
            "Annex 3. Glossary and indicator definitions", "Annex 4. County pages"} <= set(top)
    counties = [(title, page) for level, title, page in marks if level == 2 and re.search(r"\(\d{3}\)$", title)]
    assert len(counties) == 47 and counties[0][0] == "Mombasa (001)" and counties[-1][0] == "Nairobi City (047)"
    # One page per county: each county's bookmark is on the page after the previous one.
    assert [b - a for (_, a), (_, b) in zip(counties, counties[1:], strict=False)] == [1] * 46
    assert texts[counties[-1][1] - 1].count("Nairobi") >= 1 and pages == counties[-1][1]
    # The contents page prints the page each section starts on.
    summary_page = next(page for level, title, page in marks if title == "Executive summary")
    assert re.search(rf"Executive summary\.*\s*{summary_page}\b", texts[1])
    for number, page in enumerate(texts[1:], start=2):
        assert f"Page {number} of {pages}" in page
        assert "Social Protection Sector Quarterly Progress Report" in page.splitlines()[0]
        assert "DRAFT" in page
    assert "FY2024/25 Q4 (Apr–Jun 2025)" in texts[0]


def test_county_annex_from_workers_reads_as_one_document(sector):
    """The joined PDF has the same pages, words, bookmarks and links as the one-document render, both
    with worker processes and with the county pages laid out here after the main document."""
    snapshot, joined, pages = sector
    whole = render_pdf(build(snapshot, is_draft=True, reference="test run"), parts=False)
    here = render_pdf(build(snapshot, is_draft=True, reference="test run"), workers=1)
    assert "join" not in whole.timings and whole.pages == pages
    assert "join" in here.timings and here.pages == pages
    for made in (joined, here.pdf):
        assert page_texts(made) == page_texts(whole.pdf)
        assert outline(made) == outline(whole.pdf)
        reader = pypdf.PdfReader(io.BytesIO(made))
        links = [annotation.get_object() for page in reader.pages for annotation in page.get("/Annots", [])]
        named = reader.named_destinations
        targets = {reader.get_destination_page_number(named[str(link["/Dest"])]) + 1
                   for link in links if "/Dest" in link}
        # The county index links to every county page, drawn apart and joined.
        assert set(range(pages - 46, pages + 1)) <= targets


def test_iptt_figures_equal_the_results_api(sector, client, session):
    snapshot, pdf, _ = sector
    issued = create_token(session, "reviewer@demo.test", name="tests")
    response = client.get(f"/api/v1/results?period={PERIOD}&org_unit=KE&programme=ALL",
                          headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 200
    api = {row["indicator"]: row for row in response.get_json()}
    ytd = {row["indicator"]: row for row in client.get(
        f"/api/v1/results?period={PERIOD}&ytd=true&org_unit=KE&programme=ALL",
        headers={"Authorization": f"Bearer {issued.token}"}).get_json()}
    texts = page_texts(pdf)
    iptt_pages = [t for t in texts if "Indicator performance tracking table" in t or "Year to date" in t]
    lines = [line for page in iptt_pages for line in page.splitlines()]
    checked = 0
    for code, row in api.items():
        info = snapshot["indicators"][code]
        millions = in_millions(info["measure"], info["unit"], [row[k] for k in ("actual", "target", "baseline",
                                                                               "previous", "last_year")]
                               + [ytd[code]["actual"], ytd[code]["target"]])
        expected = [figure(row[k], info["measure"], info["unit"], millions) for k in ("baseline", "target", "actual")]
        expected.append(achievement(row["achievement"]))
        line = next((ln for ln in lines if ln.startswith(f"{code} ")), None)
        assert line is not None, f"{code} is not in the IPTT"
        tokens = line.split()
        joined = " ".join(expected)
        assert joined in " ".join(tokens), f"{code}: expected {joined!r} in {line!r}"
        if row["actual"] is not None:
            checked += 1
            ytd_text = figure(ytd[code]["actual"], info["measure"], info["unit"], millions)
            assert ytd_text in tokens, f"{code}: year-to-date {ytd_text!r} not in {line!r}"
    assert checked >= 30
    # A known figure, spelt out: KES disbursed this quarter, in millions.
    assert api["SA10"]["actual"] > 1e9 and f"{api['SA10']['actual'] / 1e6:,.1f}" in " ".join(lines)


def test_long_tables_repeat_their_header_on_every_page(sector):
    """A data-quality annex of 150 explained warnings runs over several pages, each with the header."""
    snapshot, _, _ = sector
    flags = [{"return": f"OPCT County {n:03d}", "kind": "history", "explanation": f"Explained {n}.",
              "message": f"SA02: figure {n} is far from its last 8 quarters"} for n in range(150)]
    rendered = render_pdf(build({**snapshot, "kind": "county", "org_unit": "042", "org_unit_name": "Kisumu",
                                 "by_programme": {}, "quality": {**snapshot["quality"], "flags": flags}}))
    texts = page_texts(rendered.pdf)
    with_flags = [t for t in texts if re.search(r"^OPCT County \d{3} ", t, re.M)]
    assert len(with_flags) >= 3
    assert all("Officer's explanation" in t for t in with_flags)
    rows = [int(m) for t in with_flags for m in re.findall(r"^OPCT County (\d{3}) ", t, re.M)]
    assert rows == list(range(150))  # every row once, in order, none lost at a page break


def test_report_never_fetches_from_the_network_or_other_files(tmp_path):
    import http.server
    import threading

    from reports.render import local_only_fetcher

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    from weasyprint import HTML

    fetcher = local_only_fetcher()
    html = (f'<link rel="stylesheet" href="{secret.as_uri()}"><img src="http://127.0.0.1:{server.server_port}/x.png">'
            '<link rel="stylesheet" href="report.css"><p>hello</p>')
    from reports.render import TEMPLATES

    HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    server.shutdown()
    assert hits == []
    assert any(u.startswith("http://127.0.0.1") for u in fetcher.refused)
    assert secret.as_uri() in fetcher.refused
    assert not any(u.endswith("report.css") for u in fetcher.refused)  # the report's own stylesheet loads


def _generate(client, kind="factsheet", **fields):
    token = csrf_token(client, "/reports/")
    return client.post("/reports/", data={"csrf_token": token, "kind": kind, "period": PERIOD, **fields})


def test_generate_publish_and_read_as_viewer(client, session, as_user):
    as_user("secretariat@demo.test")
    response = _generate(client)
    assert response.status_code == 302
    run = session.scalars(select(ReportRun).order_by(ReportRun.id.desc())).first()
    assert run.state == "done" and run.page_count == 2 and run.trigger == "web"
    assert run.snapshot and len(run.sha256) == 64 and run.requested_by_id is not None
    page = client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
    assert "Draft ready" in page and run.sha256 in page
    draft = client.get(f"/reports/runs/{run.id}/pdf")
    assert draft.headers["X-Content-SHA256"] == run.sha256
    assert all("DRAFT" in t for t in page_texts(draft.data))
    status = client.get(f"/reports/runs/{run.id}/status").get_json()
    assert status["state"] == "done" and status["progress"] == 100 and status["page_count"] == 2
    preview = client.get(f"/reports/runs/{run.id}/preview").get_data(as_text=True)
    assert "Social protection in Kenya" in preview and "Preview of the draft report" in preview

    unconfirmed = client.post(f"/reports/runs/{run.id}/publish", data={"csrf_token": csrf_token(client, "/reports/")})
    assert unconfirmed.status_code == 302
    session.refresh(run)
    assert not run.is_published
    assert "Nothing was published" in client.get(f"/reports/runs/{run.id}").get_data(as_text=True)
    published = client.post(f"/reports/runs/{run.id}/publish",
                            data={"csrf_token": csrf_token(client, "/reports/"), "confirm": "yes"})
    assert published.status_code == 302
    session.refresh(run)
    assert run.is_published
    final = client.get(f"/reports/runs/{run.id}/pdf").data
    assert not any("DRAFT" in t for t in page_texts(final))
    again = client.post(f"/reports/runs/{run.id}/publish",
                        data={"csrf_token": csrf_token(client, "/reports/"), "confirm": "yes"})
    assert again.status_code == 409
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    as_user("viewer@demo.test")
    listing = client.get("/reports/").get_data(as_text=True)
    assert f"/reports/runs/{run.id}" in listing and "Generate a report" not in listing
    assert client.get(f"/reports/runs/{run.id}/pdf").status_code == 200
    assert _generate(client).status_code == 403


def test_viewers_never_see_drafts(client, session, as_user):
    as_user("secretariat@demo.test")
    _generate(client)
    run = session.scalars(select(ReportRun).order_by(ReportRun.id.desc())).first()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    as_user("viewer@demo.test")
    assert client.get(f"/reports/runs/{run.id}").status_code == 404
    assert client.get(f"/reports/runs/{run.id}/pdf").status_code == 404
    assert f"/reports/runs/{run.id}\"" not in client.get("/reports/").get_data(as_text=True)


def test_the_database_refuses_to_change_a_published_report(client, session, as_user, app):
    as_user("secretariat@demo.test")
    _generate(client)
    run = session.scalars(select(ReportRun).order_by(ReportRun.id.desc())).first()
    client.post(f"/reports/runs/{run.id}/publish", data={"csrf_token": csrf_token(client, "/reports/"), "confirm": "yes"})
    for statement in (update(ReportRun).where(ReportRun.id == run.id).values(sha256="0" * 64),
                      text("DELETE FROM report_run WHERE id = :id").bindparams(id=run.id)):
        with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
            session.execute(statement)


def test_rerun_reproduces_the_figures_after_the_data_changed(client, session, as_user, app):
    as_user("secretariat@demo.test")
    _generate(client, kind="county", org_unit="042")
    first = session.scalars(select(ReportRun).order_by(ReportRun.id.desc())).first()
    assert first.state == "done"
    before = "\n".join(page_texts(queries.pdf_bytes(first)))
    # The data changes: Kisumu's OPCT return is reopened, so its figures leave the approved results.
    opct = load_catalogue(session).programmes["OPCT"]
    kisumu = load_catalogue(session).org_units["042"]
    session.execute(update(Return).where(Return.programme_id == opct.id, Return.org_unit_id == kisumu.id,
                                         Return.period == PERIOD).values(state="reopened"))
    again = operations.rerun(session, first, trigger="cli")
    session.commit()
    again = operations.execute(session, again.id, app.config)
    assert again.state == "done" and again.source_run_id == first.id
    assert again.snapshot_sha256 == first.snapshot_sha256
    after = "\n".join(page_texts(queries.pdf_bytes(again)))
    fresh = operations.request_report(session, kind="county", period=PERIOD, org_unit="042", trigger="cli")
    session.commit()
    fresh = operations.execute(session, fresh.id, app.config)
    now = "\n".join(page_texts(queries.pdf_bytes(fresh)))

    def figures(text_: str) -> list[str]:
        return [line for line in text_.splitlines() if line.startswith("SA02 ")]

    assert figures(before) and figures(after) == figures(before)
    assert figures(now) != figures(before)


def test_report_cli_writes_the_file_and_locates_bad_input(runner, tmp_path, session):
    target = tmp_path / "factsheet.pdf"
    result = runner.invoke(args=["report", "factsheet", "--period", PERIOD, "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "2 pages" in result.output and len(pypdf.PdfReader(target).pages) == 2
    bad = runner.invoke(args=["report", "sector", "--period", "2025Q5", "--output", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and "2025Q5" in bad.output and "quarter must be 1–4" in bad.output
    missing = runner.invoke(args=["report", "programme", "--period", PERIOD, "--output", str(tmp_path / "y.pdf")])
    assert missing.exit_code == 1 and "programme" in missing.output and "OPCT" in missing.output
    county = runner.invoke(args=["report", "county", "--period", PERIOD, "--org-unit", "Atlantis",
                                 "--output", str(tmp_path / "z.pdf")])
    assert county.exit_code == 1 and "Atlantis" in county.output
    assert not (tmp_path / "x.pdf").exists()


def test_reports_api(client, session):
    secretariat = create_token(session, "secretariat@demo.test", name="tests")
    viewer = create_token(session, "viewer@demo.test", name="tests")
    headers = {"Authorization": f"Bearer {secretariat.token}"}
    response = client.post("/api/v1/reports", json={"kind": "programme", "period": PERIOD, "programme": "HSNP"},
                           headers=headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["state"] == "done" and body["page_count"] >= 4 and response.headers["Location"].endswith(str(body["id"]))
    pdf = client.get(body["pdf"], headers=headers)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    marks = [title for _, title, _ in outline(pdf.data)]
    assert "Summary" in marks and "Annex 1. Data quality" in marks
    bad = client.post("/api/v1/reports", json={"kind": "programme", "period": PERIOD, "programme": "NOPE"},
                      headers=headers)
    assert bad.status_code == 422 and "NOPE" in bad.get_json()["message"]
    refused = client.post("/api/v1/reports", json={"kind": "factsheet", "period": PERIOD},
                          headers={"Authorization": f"Bearer {viewer.token}"})
    assert refused.status_code == 403
    assert client.get(f"/api/v1/reports/{body['id']}", headers={"Authorization": f"Bearer {viewer.token}"}).status_code == 404
    published = client.post(f"/api/v1/reports/{body['id']}/publish", headers=headers)
    # Accepted and done at once: tests publish inline (REPORT_EXECUTOR); a worker would answer "queued".
    assert published.status_code == 202 and published.headers["Location"].endswith(f"/reports/{body['id']}")
    assert published.get_json()["is_draft"] is False and published.get_json()["publish_state"] == "done"


def test_accessible_variant_is_a_tagged_pdf(session, app):
    run = operations.request_report(session, kind="county", period=PERIOD, org_unit="Kisumu", accessible=True,
                                    trigger="cli")
    session.commit()
    run = operations.execute(session, run.id, app.config)
    reader = pypdf.PdfReader(io.BytesIO(queries.pdf_bytes(run)))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en"
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()


def test_programme_and_county_reports_have_their_sections(session, app):
    catalogue = load_catalogue(session)
    for kind, extra, expected in (("programme", {"programme": "OPCT"}, ["Summary", "Results and reporting by county"]),
                                  ("county", {"org_unit": "042"}, ["All programmes together", "By programme"])):
        snapshot = gather(session, catalogue, kind=kind, period=PERIOD, generated_at=datetime(2025, 8, 20, tzinfo=UTC),
                          **extra)
        rendered = render_pdf(build(snapshot))
        marks = [title for _, title, _ in outline(rendered.pdf)]
        assert all(title in marks for title in expected), marks
        texts = page_texts(rendered.pdf)
        assert f"Page 2 of {rendered.pages}" in texts[1]
