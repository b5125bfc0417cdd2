"""The evidence register's API (/api/v1/evidence, /api/v1/learning-questions): a round trip, the OpenAPI
document, and search and filter inputs of every shape (hypothesis): never a server error, every answer
within the filters asked."""

from __future__ import annotations

import io
import string
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mel.learning.models import EVIDENCE_KINDS
from tests.app.test_learning import headers, pdf_bytes

KEEPER = "reviewer@demo.test"


def test_an_item_round_trips_through_the_api(client, session):
    auth = headers(session, KEEPER)
    question = client.post("/api/v1/learning-questions", json={"question": "Round trip?", "code": "LQ50"},
                           headers=auth).get_json()
    sent = {"kind": "study", "title": "Round-trip study", "authors": "A. Wanjiru; B. Otieno", "agency": "KIPPRA",
            "published_on": "2024-06-30", "link": "https://example.org/study", "key_findings": "First.\n\nSecond.",
            "key_findings_sw": "Kwanza.", "indicators": ["SA04"], "nodes": ["O1.2"], "questions": ["LQ50"]}
    made = client.post("/api/v1/evidence", json=sent, headers=auth)
    assert made.status_code == 201
    body = made.get_json()
    assert {k: body[k] for k in sent} == sent
    assert (body["kind_label"], body["year"], body["withdrawn"], body["created_by"]) == ("Study", 2024, False, KEEPER)
    item_id = body["id"]
    content = pdf_bytes(2)
    uploaded = client.put(f"/api/v1/evidence/{item_id}/file", data={"file": (io.BytesIO(content), "study.pdf")},
                          headers=auth, content_type="multipart/form-data").get_json()
    assert uploaded["file"]["name"] == "study.pdf" and uploaded["file"]["url"] == f"/api/v1/evidence/{item_id}/file"
    assert client.get(uploaded["file"]["url"], headers=auth).data == content
    assert client.get(f"/api/v1/evidence/{item_id}", headers=auth).get_json() == uploaded
    for query in ({"q": "wanjiru"}, {"q": "kwanza"}, {"q": "KIPPRA second"}, {"kind": "study"}, {"indicator": "sa04"},
                  {"node": "O1.2"}, {"question": "LQ50"}, {"year": 2024}):
        listed = client.get("/api/v1/evidence", query_string=query, headers=auth)
        assert item_id in [i["id"] for i in listed.get_json()], query
        assert int(listed.headers["X-Total-Count"]) >= 1
    for query in ({"q": "wanjiru nowhere"}, {"kind": "evaluation"}, {"indicator": "SA01"}, {"year": 2023}):
        assert item_id not in [i["id"] for i in client.get("/api/v1/evidence", query_string=query,
                                                           headers=auth).get_json()], query
    patched = client.patch(f"/api/v1/evidence/{item_id}", json={"published_on": None, "questions": []},
                           headers=auth).get_json()
    assert patched["published_on"] is None and patched["year"] is None and patched["questions"] == []
    assert client.get(f"/api/v1/learning-questions/{question['id']}", headers=auth).get_json()["evidence"] == []
    withdrawn = client.post(f"/api/v1/evidence/{item_id}/withdraw", json={"reason": "Duplicate entry."},
                            headers=auth).get_json()
    assert withdrawn["withdrawn"] and withdrawn["withdrawn_reason"] == "Duplicate entry."
    assert item_id not in [i["id"] for i in client.get("/api/v1/evidence?q=wanjiru", headers=auth).get_json()]
    assert item_id in [i["id"] for i in client.get("/api/v1/evidence?q=wanjiru&withdrawn=true",
                                                   headers=auth).get_json()]


def test_the_api_is_in_the_openapi_document(client, session):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert {"/api/v1/evidence", "/api/v1/evidence/{evidence_id}", "/api/v1/evidence/{evidence_id}/withdraw",
            "/api/v1/evidence/{evidence_id}/file", "/api/v1/learning-questions",
            "/api/v1/learning-questions/{question_id}"} <= set(paths)
    assert set(paths["/api/v1/evidence"]) >= {"get", "post"}
    assert set(paths["/api/v1/evidence/{evidence_id}"]) >= {"get", "patch"}
    assert "multipart/form-data" in paths["/api/v1/evidence/{evidence_id}/file"]["put"]["requestBody"]["content"]
    assert "application/pdf" in paths["/api/v1/evidence/{evidence_id}/file"]["get"]["responses"]["200"]["content"]
    parameters = {p["name"] for p in paths["/api/v1/evidence"]["get"]["parameters"]}
    assert {"q", "kind", "indicator", "node", "question", "year", "withdrawn"} <= parameters


def test_officers_and_viewers_read_but_do_not_write(client, session):
    keeper = headers(session, KEEPER)
    item = client.post("/api/v1/evidence", json={"kind": "study", "title": "Read only"}, headers=keeper).get_json()
    for email in ("officer.opct@demo.test", "viewer@demo.test"):
        auth = headers(session, email)
        assert client.get(f"/api/v1/evidence/{item['id']}", headers=auth).status_code == 200
        refused = client.post("/api/v1/evidence", json={"kind": "study", "title": "Mine"}, headers=auth)
        assert refused.status_code == 403
        assert refused.get_json()["message"] == "Only the MERL TWG and the secretariat add evidence to the register."
        assert client.patch(f"/api/v1/evidence/{item['id']}", json={"title": "X"}, headers=auth).status_code == 403
        assert client.post(f"/api/v1/evidence/{item['id']}/withdraw", json={"reason": "X"},
                           headers=auth).status_code == 403
        assert client.post("/api/v1/learning-questions", json={"question": "Mine?"}, headers=auth).status_code == 403
    secretariat = headers(session, "secretariat@demo.test")
    assert client.patch(f"/api/v1/evidence/{item['id']}", json={"title": "By the secretariat"},
                        headers=secretariat).status_code == 200


# --------------------------------------------------------------------------- search and filters, any input

WORDS = ["drought", "payment", "caregiver", "enrolment", "SHA", "Turkana", "timeliness", "endline"]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@pytest.fixture
def corpus(client, session):
    """A few items of every kind, years and links (the transaction is rolled back after the test)."""
    from tests.helpers import login

    login(client, "viewer@demo.test")  # the web register too
    auth = headers(session, KEEPER)
    made = []
    for n, word in enumerate(WORDS):
        body = {"kind": EVIDENCE_KINDS[n % len(EVIDENCE_KINDS)], "title": f"{word.title()} study {n} 100%_done",
                "agency": ["NDMA", "SDSPSCA", "SHA"][n % 3], "key_findings": f"Findings on {word} in county {n}.",
                "published_on": date(2020 + n % 5, 1 + n, 10).isoformat(), "indicators": [["SA11"], ["SA08"], []][n % 3],
                "nodes": [["O1.1"], [], ["O1.3"]][n % 3]}
        answer = client.post("/api/v1/evidence", json=body, headers=auth)
        assert answer.status_code == 201, answer.get_json()
        made.append(answer.get_json())
    return auth, made


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(q=st.one_of(TEXT, st.sampled_from(WORDS + ["%", "_", "100%_", "\\", "'", "\x00", "  "])),
       kind=st.one_of(st.none(), st.sampled_from(EVIDENCE_KINDS), TEXT),
       indicator=st.one_of(st.none(), st.sampled_from(["SA11", "sa08", "HI04"]), TEXT),
       node=st.one_of(st.none(), st.sampled_from(["O1.1", "o1.3"]), TEXT),
       year=st.one_of(st.none(), st.integers(1890, 2110), TEXT),
       withdrawn=st.one_of(st.none(), st.booleans()))
def test_any_search_and_filters_answer_within_them_or_name_the_field(client, corpus, q, kind, indicator, node, year,
                                                                      withdrawn):
    auth, made = corpus
    query = {k: v for k, v in {"q": q, "kind": kind, "indicator": indicator, "node": node, "year": year,
                               "withdrawn": withdrawn}.items() if v is not None}
    answer = client.get("/api/v1/evidence", query_string=query, headers=auth)
    assert answer.status_code in (200, 422), (query, answer.status_code, answer.get_data(as_text=True)[:300])
    if answer.status_code == 422:
        body = answer.get_json()
        fields = {d["location"].get("field") for d in body.get("details", [])}
        assert fields & {"q", "kind", "indicator", "node", "year", "withdrawn"} or "NUL" in body["message"], body
        return
    found = answer.get_json()
    terms = "".join(c if c.isprintable() else " " for c in str(q)).split()
    for item in found:
        text = " ".join([item["title"], item["authors"], item["agency"], item["key_findings"],
                         item["key_findings_sw"]]).casefold()
        assert all(t.casefold() in text for t in terms if t.isascii()), (q, item["title"])
        if kind:
            assert item["kind"] == kind
        if indicator:
            assert indicator.upper() in item["indicators"]
        if node:
            assert node.upper() in [n.upper() for n in item["nodes"]]
        if isinstance(year, int):
            assert item["year"] == year
    if not query.keys() - {"withdrawn"}:
        assert {m["id"] for m in made} <= {i["id"] for i in found}
    web = client.get("/learning/evidence", query_string={k: str(v) for k, v in query.items()})
    assert web.status_code in (200, 422), (query, web.status_code)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(word=st.sampled_from(WORDS), case=st.sampled_from([str.upper, str.lower, str.title]),
       extra=st.text(alphabet=string.ascii_letters, min_size=0, max_size=3))
def test_a_word_of_an_item_finds_it_in_any_case(client, corpus, word, case, extra):
    auth, made = corpus
    wanted = [m["id"] for m in made if word.casefold() in m["title"].casefold()]
    found = client.get("/api/v1/evidence", query_string={"q": case(word)}, headers=auth).get_json()
    assert set(wanted) <= {i["id"] for i in found}
    if extra:
        narrower = client.get("/api/v1/evidence", query_string={"q": f"{case(word)} {extra}"}, headers=auth).get_json()
        assert {i["id"] for i in narrower} <= {i["id"] for i in found}
