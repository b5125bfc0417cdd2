"""Review at meeting speed: the queue pages through 250+ returns with filters in words kept in the
address, orders by the largest change against last quarter, sends ticked returns back with one
reason, and a return links to the next one needing a decision ("approve/return and open the next")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mel.catalogue.lookup import load_catalogue
from mel.returns.models import Return, ReturnEvent
from mel.review import queries
from tests.helpers import csrf_token, flat_rows, login, submit_figures

IN_WINDOW = datetime(2025, 10, 10, 9, 0, tzinfo=UTC)
ROW = re.compile(r'<tr>\s*<td>(?:<input type="checkbox"[^>]*>)?</td>\s*<td><abbr title="([^"]+)">(\w+)</abbr></td>')


@pytest.fixture
def submitted(session):
    """Four OPCT returns of 2025Q3 submitted (Kisumu's with figures far above its 2025Q2)."""
    made = {}
    for unit, base in (("001", 1000), ("002", 1100), ("042", 900_000), ("047", 1200)):
        made[unit] = submit_figures(session, "OPCT", flat_rows(session, "OPCT", unit, "2025Q3", base), now=IN_WINDOW)
    session.flush()
    return made


def queue(client, **query):
    answer = client.get("/review/", query_string={"period": "2025Q2", **query})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_queue_pages_through_every_expected_return(client, session):
    login(client, "reviewer@demo.test")
    first = queue(client)
    total = int(re.search(r"(\d+) expected returns", first).group(1))
    assert total >= 250
    pages = -(-total // 50)
    assert f"page 1 of {pages}" in first and len(ROW.findall(first)) == 50
    last = queue(client, page=pages)
    assert len(ROW.findall(last)) == total - 50 * (pages - 1)
    seen = set()
    for page in range(1, pages + 1):
        for name, code in ROW.findall(queue(client, page=page)):
            seen.add((code, name))
    assert {code for code, _ in seen} >= {"OPCT", "HSNP"}
    assert f'<strong aria-current="page">{pages}</strong>' in queue(client, page=10_000)  # past the end: the last
    assert "page 1 of" in queue(client, page=-4)


def test_filters_are_in_words_and_kept_in_the_address(client, session):
    login(client, "reviewer@demo.test")
    page = queue(client, programme="OPCT", state="approved", order="change")
    assert '<option value="OPCT" selected>Inua Jamii Older Persons Cash Transfer (70+) (OPCT)</option>' in page \
        or re.search(r'<option value="OPCT" selected>[^<(]+\(OPCT\)</option>', page)
    assert '<option value="approved" selected>Approved</option>' in page
    assert "All pillars" in page and "Every state" in page and "Social assistance" in page
    rows = ROW.findall(page)
    assert rows and all(code == "OPCT" for _, code in rows)
    links = re.findall(r'href="(/review/OPCT/\d{3}/2025Q2\?queue=[^"]+)"', page)
    assert links and all("programme%3DOPCT" in link and "order%3Dchange" in link for link in links)


def test_the_largest_change_orders_the_queue_and_is_named(client, session, submitted):
    catalogue = load_catalogue(session)
    changes = queries.largest_changes(session, catalogue, "2025Q3", [r.id for r in submitted.values()])
    assert set(changes) == {r.id for r in submitted.values()}
    kisumu = changes[submitted["042"].id]
    assert kisumu["current"] > kisumu["previous"]
    assert kisumu["change"] is None if kisumu["previous"] == 0 else kisumu["change"] > 100
    assert max(changes.values(), key=lambda c: c["score"]) is kisumu
    login(client, "reviewer@demo.test")
    page = client.get("/review/", query_string={"period": "2025Q3", "programme": "OPCT", "state": "submitted",
                                                "order": "change"}).get_data(as_text=True)
    order = re.findall(r'href="/review/OPCT/(\d{3})/2025Q3', page)
    assert order[0] == "042"
    assert f"{kisumu['name']}" in page and " → " in page


def test_ticked_returns_go_back_with_one_reason(client, session, submitted):
    login(client, "reviewer@demo.test")
    token = csrf_token(client, "/review/?period=2025Q3")
    ids = [str(submitted[u].id) for u in ("001", "002")]
    refused = client.post("/review/bulk-return", data={"csrf_token": token, "period": "2025Q3", "return_id": ids,
                                                       "text": "Check the totals."})
    assert refused.status_code == 302
    assert all(session.get(Return, int(i)).state == "submitted" for i in ids)  # no reason chosen: none sent
    assert "Nothing was sent back" in client.get("/review/?period=2025Q3").get_data(as_text=True)
    sent = client.post("/review/bulk-return", data={
        "csrf_token": token, "period": "2025Q3", "return_id": ids, "reasons": ["inconsistent"],
        "text": "Check the totals.", "back": "/review/?period=2025Q3&programme=OPCT"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/review/?period=2025Q3&programme=OPCT")
    session.expire_all()
    assert [session.get(Return, int(i)).state for i in ids] == ["returned", "returned"]
    events = session.scalars(select(ReturnEvent).where(ReturnEvent.return_id.in_([int(i) for i in ids]),
                                                       ReturnEvent.to_state == "returned")).all()
    assert {e.reason for e in events} == {"Check the totals."} and {e.reason_codes for e in events} == {"inconsistent"}
    assert session.get(Return, submitted["042"].id).state == "submitted"  # not ticked, untouched
    nothing = client.post("/review/bulk-return", data={"csrf_token": token, "period": "2025Q3", "reasons": ["inconsistent"]})
    assert nothing.status_code == 302
    assert "Tick at least one submitted return" in client.get("/review/?period=2025Q3").get_data(as_text=True)
    offsite = client.post("/review/bulk-return", data={"csrf_token": token, "period": "2025Q3",
                                                       "back": "//evil.example/"})
    assert offsite.headers["Location"].startswith("/review/")


def test_a_return_leads_to_the_next_needing_a_decision(client, session, submitted):
    login(client, "reviewer@demo.test")
    queue_text = "period=2025Q3&programme=OPCT&state=submitted"
    first = client.get("/review/OPCT/001/2025Q3", query_string={"queue": queue_text}).get_data(as_text=True)
    following = re.search(r'href="(/review/OPCT/(\d{3})/2025Q3[^"]*)" rel="next"', first)
    assert following and following.group(2) != "001"
    token = csrf_token(client, "/review/OPCT/001/2025Q3")
    moved = client.post("/review/OPCT/001/2025Q3", data={
        "csrf_token": token, "action": "return", "reasons": ["inconsistent"], "text": "Totals.", "then": "next",
        "queue": queue_text})
    assert moved.status_code == 302 and re.search(r"/review/OPCT/\d{3}/2025Q3\?queue=", moved.headers["Location"])
    assert "/001/" not in moved.headers["Location"]
    assert session.get(Return, submitted["001"].id).state == "returned"
    # The figures that moved most come first on the return page; the form's order is one click away.
    page = client.get("/review/OPCT/042/2025Q3").get_data(as_text=True)
    assert "that changed most against last quarter first" in page and "order=form" in page
    changes = [float(c) for c in re.findall(r'<td class="num-cell">([+-]\d+)%</td>', page)]
    assert changes and [abs(c) for c in changes] == sorted((abs(c) for c in changes), reverse=True)


def test_the_last_decision_says_none_is_waiting(client, session, submitted):
    login(client, "reviewer@demo.test")
    token = csrf_token(client, "/review/OPCT/001/2025Q3")
    for unit in ("001", "002", "042"):
        client.post(f"/review/OPCT/{unit}/2025Q3", data={"csrf_token": token, "action": "return",
                                                          "reasons": ["inconsistent"], "text": "Again."})
    done = client.post("/review/OPCT/047/2025Q3", data={
        "csrf_token": token, "action": "return", "reasons": ["inconsistent"], "text": "Again.", "then": "next",
        "queue": "period=2025Q3&programme=OPCT"})
    assert done.status_code == 302 and done.headers["Location"].startswith("/review/?")
    assert "No other return of the quarter waits for a decision" in client.get(done.headers["Location"]).get_data(
        as_text=True)


@pytest.mark.parametrize("queue_text", ["", "nonsense", "page=x&order=zzz", "programme=" + "A" * 600, "\x00=1"])
def test_odd_queue_parameters_never_break_the_pages(client, session, queue_text):
    login(client, "reviewer@demo.test")
    assert client.get("/review/OPCT/042/2025Q2", query_string={"queue": queue_text}).status_code in (200, 422)
    assert client.get("/review/", query_string={"period": "2025Q2", "order": queue_text,
                                                "programme": queue_text[:30]}).status_code in (200, 422)
