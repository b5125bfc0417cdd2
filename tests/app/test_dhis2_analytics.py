"""GET /api/analytics as DHIS2 2.41 answers it, read by the real DHIS2 client (dhis2-client) from a live server.

The figures must be the compilation engine's: for every cell the same number /api/v1/results gives
for that indicator, org unit and period (ratios of sums, stocks, figures not added across
programmes), approved figures only for every role, and a bad query gets DHIS2's 409 WebMessage.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import requests
import time_machine
from dhis2_client import DHIS2Client
from dhis2_client.errors import DHIS2HTTPError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mel.accounts.operations import create_token, load_user
from mel.app import create_app
from mel.catalogue.lookup import load_catalogue
from mel.catalogue.operations import seed_catalogue
from mel.db import db
from mel.demo import DEMO_PASSWORD, load_demo
from mel.dhis2.analytics_grid import format_number
from mel.dhis2.ids import load_ids
from mel.migrate import upgrade
from mel.returns import operations as return_ops
from mel.returns.ingest import Incoming, ingest
from mel.returns.models import Return
from tests.app.returns_helpers import IN_WINDOW
from tests.helpers import explain_all, flat_rows, fresh_database_url, serving

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROLES = {"secretariat": "secretariat@demo.test", "reviewer": "reviewer@demo.test",
         "officer": "officer.opct@demo.test", "officer_unit": "officer.kisumu@demo.test",
         "officer_programme": "officer.hsnp@demo.test", "viewer": "viewer@demo.test"}
# Figures of OPCT 2025Q3 returns that are not approved: no analytics answer may carry them.
UNAPPROVED = {"submitted": ("042", 7777772), "draft": ("001", 7777771)}
DAY = "2025-08-01"  # LAST_4_QUARTERS = 2024Q3 … 2025Q2, the demo history's last approved year


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on its own committed database (catalogue, demo history, two unapproved returns), served on 127.0.0.1."""
    url = fresh_database_url(tmp_path_factory, "dhis2_analytics")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("analytics")),
                     LOG_LEVEL="WARNING")
    with app.app_context():
        session = db.session
        upgrade(db.engine)
        seed_catalogue(session)
        load_demo(session, as_of=date(2025, 10, 5), live=False)
        officer = load_user(session, ROLES["officer"])
        with time_machine.travel(IN_WINDOW, tick=False):
            for state, (unit, figure) in UNAPPROVED.items():
                result = ingest(session, officer, Incoming(flat_rows(session, "OPCT", unit, "2025Q3", figure), "api"),
                                programme="OPCT", now=IN_WINDOW)
                assert result.outcome == "stored", [e.message for e in result.errors]
                record = session.get(Return, result.returns[0].return_id)
                explain_all(session, officer, record)
                if state == "submitted":
                    return_ops.submit(session, officer, record, now=IN_WINDOW, catalogue=load_catalogue(session))
        tokens = {role: create_token(session, email, name="analytics").token for role, email in ROLES.items()}
        ids = load_ids(session)
        catalogue = load_catalogue(session)
        uids = {"indicator": {i.code: i.uid for i in ids.indicators.values()},
                "element": {e.code: e.uid for e in ids.data_elements.values()},
                "unit": {u.our_code: u.uid for u in ids.org_units.values()},
                "unit_code": {u.uid: u.our_code for u in ids.org_units.values()},
                "programme": {a.programme: a.uid for a in ids.attribute_combos.values()},
                "combo": {c.code: c.uid for c in ids.option_combos.values()},
                "counties": sorted(code for code, u in catalogue.org_units.items() if u.level == 2)}
        session.commit()
        session.close()
    with serving(app) as base:
        yield {"base": base, "tokens": tokens, **uids}
    with app.app_context():
        db.engine.dispose()


def get(live, path: str, role: str = "reviewer", **params) -> requests.Response:
    return requests.get(live["base"] + path, params=params, timeout=60,
                        headers={"Authorization": f"ApiToken {live['tokens'][role]}"})


def results(live, indicator: str, period: str, org_unit: str = "KE", **extra) -> list[dict]:
    """/api/v1/results for every programme (extra: by=org_unit, programme=...)."""
    answer = get(live, "/api/v1/results", **({"indicator": indicator, "period": period, "org_unit": org_unit,
                                               "programme": "ALL"} | extra))
    assert answer.status_code == 200, answer.text
    return answer.json()


def client(live, role: str = "reviewer") -> DHIS2Client:
    return DHIS2Client(live["base"], username=ROLES[role], password=DEMO_PASSWORD, retries=0)


def cells(grid: dict) -> dict[tuple, str]:
    """{(dimension ids...): value} of a grid's rows."""
    width = sum(1 for h in grid["headers"] if h["meta"])
    return {tuple(row[:width]): row[width] for row in grid["rows"]}


# --------------------------------------------------------------------------- the grid, through dhis2-client


def test_indicators_by_county_for_the_last_four_quarters_equal_the_results_api(live):
    dhis2 = client(live)
    sa02, sa03 = live["indicator"]["SA02"], live["indicator"]["SA03"]
    grid = dhis2.get_analytics_data(dx=[sa02, sa03], pe="LAST_4_QUARTERS", ou="LEVEL-2", relativePeriodDate=DAY)
    dhis2.close()
    assert [(h["name"], h["column"], h["valueType"], h["meta"], h["hidden"]) for h in grid["headers"]] == [
        ("dx", "Data", "TEXT", True, False), ("pe", "Period", "TEXT", True, False),
        ("ou", "Organisation unit", "TEXT", True, False), ("value", "Value", "NUMBER", False, False)]
    quarters = ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    meta = grid["metaData"]
    assert meta["dimensions"]["pe"] == quarters
    assert meta["dimensions"]["dx"] == [sa02, sa03]
    assert sorted(meta["dimensions"]["ou"]) == sorted(live["unit"][c] for c in live["counties"])
    assert meta["dimensions"]["co"] == []
    assert meta["items"]["LAST_4_QUARTERS"] == {"name": "Last 4 quarters"}
    assert meta["items"]["2025Q2"]["name"] == "FY2024/25 Q4 (Apr–Jun 2025)"
    assert meta["items"][live["unit"]["042"]]["name"] == "Kisumu"
    assert {meta["items"][k]["name"] for k in ("dx", "pe", "ou")} == {"Data", "Period", "Organisation unit"}
    assert grid["height"] == len(grid["rows"]) > 0 and grid["width"] == 4 and grid["headerWidth"] == 4
    assert all(isinstance(v, str) for row in grid["rows"] for v in row)
    got = cells(grid)
    checked = 0
    for code in ("SA02", "SA03"):
        for quarter in quarters:
            for row in results(live, code, quarter, by="org_unit"):
                if row["org_unit"] == "KE":
                    continue  # figures reported nationally, not by a county
                key = (live["indicator"][code], quarter, live["unit"][row["org_unit"]])
                expected = None if row["actual"] is None else format_number(row["actual"])
                assert got.get(key) == expected, (key, row)
                checked += 1
    assert checked > 100
    assert len(got) == checked  # nothing else


@pytest.mark.parametrize(("indicator", "period"), [
    ("SA02", "2025Q2"),  # a count, stock (last)
    ("SA03", "2024July"),  # a ratio of stocks over a year: each unit's latest quarter
    ("SA09", "2024July"),  # a ratio of flows: sums of numerators and denominators
    ("SA10", "2024July"),  # an amount, summed over the year
    ("HI04", "2025Q1"),
])
def test_a_national_figure_is_the_results_figure_to_full_precision(live, indicator, period):
    expected = results(live, indicator, period)[0]
    answer = get(live, "/api/analytics", dimension=[f"dx:{live['indicator'][indicator]}", f"pe:{period}"],
                 filter=f"ou:{live['unit']['KE']}", skipRounding="true", includeNumDen="true")
    assert answer.status_code == 200, answer.text
    grid = answer.json()
    assert [h["name"] for h in grid["headers"]] == ["dx", "pe", "value", "numerator", "denominator", "factor",
                                                    "multiplier", "divisor"]
    (row,) = grid["rows"]
    assert float(row[2]) == pytest.approx(expected["actual"], rel=1e-12)
    if expected["numerator"] is not None:
        assert float(row[3]) == pytest.approx(expected["numerator"]) and float(row[4]) == pytest.approx(
            expected["denominator"])
        assert row[5] == "100"
    rounded = get(live, "/api/analytics", dimension=[f"dx:{live['indicator'][indicator]}", f"pe:{period}"]).json()
    assert rounded["rows"][0][-1] == format_number(expected["actual"])  # two decimals, half up


def test_a_figure_not_added_across_programmes_has_no_cell_but_each_programme_has_one(live):
    sa01 = live["indicator"]["SA01"]
    assert results(live, "SA01", "2025Q2")[0]["actual"] is None  # the engine refuses to add SA01 across programmes
    total = get(live, "/api/analytics", dimension=[f"dx:{sa01}", "pe:2025Q2"]).json()
    assert total["rows"] == [] and total["height"] == 0 and total["width"] == 0
    by_programme = get(live, "/api/analytics", dimension=[f"dx:{sa01}", "ao"], filter="pe:2025Q2",
                       outputIdScheme="CODE", skipRounding="true").json()
    assert len(by_programme["rows"]) >= 2
    for _, programme, value in by_programme["rows"]:
        row = get(live, "/api/v1/results", indicator="SA01", period="2025Q2", org_unit="KE",
                  programme=programme).json()[0]
        assert float(value) == pytest.approx(row["actual"])


def test_data_elements_are_the_figures_parts(live):
    expected = results(live, "SA03", "2024July")[0]
    elements = live["element"]
    answer = get(live, "/api/analytics.json", dimension=f"dx:{elements['SA03.N']};{elements['SA03.D']};"
                                                        f"{live['indicator']['SA03']},pe:2024July",
                 outputIdScheme="CODE", skipRounding="true", includeMetadataDetails="true")
    grid = answer.json()
    got = cells(grid)
    assert float(got[("SA03.N", "2024July")]) == expected["numerator"]
    assert float(got[("SA03.D", "2024July")]) == expected["denominator"]
    assert float(got[("SA03", "2024July")]) == pytest.approx(expected["actual"])
    items = grid["metaData"]["items"]
    assert items["SA03.N"]["dimensionItemType"] == "DATA_ELEMENT" and items["SA03.N"]["aggregationType"] == "LAST"
    assert items["SA03"]["dimensionItemType"] == "INDICATOR" and items["SA03"]["indicatorType"]["factor"] == 100
    assert items["2024July"]["startDate"].startswith("2024-07-01")
    assert any(key.startswith("SEX_") for key in items)  # the data elements' category option combos
    # Operands, groups and unknown items are skipped as DHIS2 skips them, as long as one item is known.
    mixed = get(live, "/api/analytics", dimension=["dx:DE_GROUP-abc;nope;" + elements["SA03.N"], "pe:2024July"]).json()
    assert len(mixed["rows"]) == 1


def test_category_option_combos_and_operands_are_the_results_by_option(live):
    by_option = {row["option"]: row for row in results(live, "SA03", "2024July", by="option")}
    assert set(by_option) == {"F", "M"}
    grid = get(live, "/api/analytics", dimension=["dx:SA03.N;SA03.D", "co", "pe:2024July"], filter="ou:KE",
               inputIdScheme="CODE", outputIdScheme="CODE").json()
    assert [h["name"] for h in grid["headers"]] == ["dx", "co", "pe", "value"]
    assert sorted(grid["metaData"]["dimensions"]["co"]) == ["SEX_F", "SEX_M"]
    assert cells(grid) == {(f"SA03.{part[0].upper()}", f"SEX_{option}", "2024July"): format_number(row[part])
                           for option, row in by_option.items() for part in ("numerator", "denominator")}
    # An operand `de.coc` is one of those cells; a data element without disaggregation has DHIS2's default combo.
    element, hi03 = live["element"]["SA03.N"], live["element"]["HI03"]
    female = live["combo"]["SEX_F"]
    operand = get(live, "/api/analytics", dimension=[f"dx:{element}.{female}", "pe:2024July"]).json()
    assert operand["rows"] == [[f"{element}.{female}", "2024July", format_number(by_option["F"]["numerator"])]]
    default = get(live, "/api/analytics", dimension=[f"dx:{hi03}", "co", "pe:2025Q2"]).json()
    total = results(live, "HI03", "2025Q2")[0]["actual"]
    assert default["rows"] == [[hi03, "HllvX50cXC0", "2025Q2", format_number(total)]]


def test_a_period_filter_of_a_years_quarters_is_that_financial_year(live):
    sa10 = live["indicator"]["SA10"]
    year = get(live, "/api/analytics", dimension=[f"dx:{sa10}", "pe:2024July"], skipRounding="true").json()
    quarters = get(live, "/api/analytics", dimension=f"dx:{sa10}", filter="pe:2024Q3;2024Q4;2025Q1;2025Q2",
                   skipRounding="true").json()
    assert quarters["rows"] == [[sa10, year["rows"][0][2]]]
    assert quarters["metaData"]["dimensions"]["pe"] == ["2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    months = get(live, "/api/analytics", dimension=[f"dx:{sa10}", "pe:202505;LAST_12_MONTHS"],
                 relativePeriodDate=DAY).json()
    assert months["rows"] == []  # quarterly figures are not split into months, as in DHIS2


def test_csv_codes_short_names_and_the_versioned_path(live):
    answer = get(live, "/api/41/analytics.csv", dimension=["dx:SA02", "pe:2025Q2", "ou:042;43"],
                 inputIdScheme="CODE", outputIdScheme="CODE")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/csv")
    assert 'filename="data.csv"' in answer.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(answer.text)))
    assert table[0] == ["Data", "Period", "Organisation unit", "Value"]
    expected = {row["org_unit"]: format_number(row["actual"]) for row in results(live, "SA02", "2025Q2", by="org_unit")}
    assert {(r[2], r[3]) for r in table[1:]} == {("042", expected["042"]), ("043", expected["043"])}
    short = get(live, "/api/analytics", dimension=["dx:SA02", "pe:2025Q2"], inputIdScheme="CODE",
                outputIdScheme="NAME", displayProperty="SHORTNAME").json()
    assert short["metaData"]["items"]["2025Q2"]["name"] == "FY24/25 Q4"
    assert short["rows"][0][0].startswith("Number of older persons")


def test_user_org_unit_is_the_officers_own(live):
    answer = get(live, "/api/analytics", role="officer_unit", dimension=["dx:SA02", "pe:2025Q2", "ou:USER_ORGUNIT"],
                 inputIdScheme="CODE", outputOrgUnitIdScheme="CODE").json()
    assert [row[2] for row in answer["rows"]] == ["042"]
    everyone = get(live, "/api/analytics", dimension=["dx:SA02", "pe:2025Q2", "ou:USER_ORGUNIT_CHILDREN"],
                   inputIdScheme="CODE").json()
    assert len(everyone["rows"]) == len(everyone["metaData"]["dimensions"]["ou"]) > 40


def test_skip_meta_and_skip_data(live):
    meta_only = get(live, "/api/analytics", dimension=["dx:SA02", "pe:2025Q2"], inputIdScheme="CODE",
                    skipData="true").json()
    assert meta_only["rows"] == [] and meta_only["headers"] == [] and meta_only["metaData"]["items"]
    data_only = get(live, "/api/analytics", dimension=["dx:SA02", "pe:2025Q2"], inputIdScheme="CODE",
                    skipMeta="true").json()
    assert data_only["metaData"] == {} and len(data_only["rows"]) == 1


# --------------------------------------------------------------------------- who sees what


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_role_reads_approved_figures_only(live, role):
    reviewer = get(live, "/api/v1/results", indicator="SA02", period="2025Q3", org_unit="042", programme="OPCT",
                   include="submitted").json()
    assert reviewer and reviewer[0]["actual"] == 2 * 7777772  # the submitted figure (F + M) is there to leak
    for path in ("/api/analytics", "/api/analytics.csv"):
        answer = get(live, path, role=role, dimension=["dx:SA02;SA02;SA03;SA03.N", "pe:2025Q3;2025July;THIS_QUARTER",
                                                          "ou:KE;LEVEL-2;USER_ORGUNIT"],
                     inputIdScheme="CODE", includeNumDen="true", relativePeriodDate="2025-09-01")
        assert answer.status_code == 200, answer.text
        body = answer.text
        for _, figure in UNAPPROVED.values():
            for shown in (figure, figure // 2, figure * 2, figure * 47):
                assert str(shown) not in body
        rows = answer.json()["rows"] if path.endswith("analytics") else list(csv.reader(io.StringIO(body)))[1:]
        assert rows == []  # nothing of 2025Q3 is approved
    approved = get(live, "/api/analytics", role=role, dimension=["dx:SA02", "pe:2025Q2", "ou:042"],
                   inputIdScheme="CODE").json()
    assert approved["rows"][0][-1] == format_number(results(live, "SA02", "2025Q2", "042")[0]["actual"])


@pytest.mark.parametrize(("role", "ou", "programme", "allowed"), [
    ("reviewer", "KE", None, True),
    ("secretariat", "042", "OPCT", True),
    ("officer", "042", "OPCT", True),  # OPCT in every county
    ("officer", "042", None, False),  # every programme: not only the officer's
    ("officer_unit", "042", "OPCT", True),  # OPCT in Kisumu
    ("officer_unit", "KE", "OPCT", False),
    ("officer_programme", "042", "OPCT", False),
    ("viewer", "042", "OPCT", False),
])
def test_unapproved_figures_for_those_results_shows_them_to(live, role, ou, programme, allowed):
    params = {"dimension": ["dx:SA02", "pe:2025Q3", f"ou:{ou}"], "inputIdScheme": "CODE",
              "includeUnapproved": "true", **({"filter": f"ao:{programme}"} if programme else {})}
    answer = get(live, "/api/analytics", role=role, **params)
    expected = get(live, "/api/v1/results", role=role, indicator="SA02", period="2025Q3", org_unit=ou,
                   programme=programme or "ALL", include="submitted")
    assert expected.status_code == (200 if allowed else 403)
    if not allowed:
        assert answer.status_code == 403 and answer.json()["errorCode"] == "E1006"
        assert "7777772" not in answer.text and "15555544" not in answer.text
        return
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["rows"]
    assert row[-1] == format_number(expected.json()[0]["actual"])
    assert float(row[-1]) >= 2 * 7777772  # the submitted return counts (the draft does not)


def test_without_credentials_the_answer_is_dhis2s_401(live):
    answer = requests.get(live["base"] + "/api/analytics", params={"dimension": "dx:SA02"},
                          headers={"X-Requested-With": "XMLHttpRequest"}, timeout=30, allow_redirects=False)
    assert answer.status_code == 401
    assert answer.json()["httpStatus"] == "Unauthorized"


# --------------------------------------------------------------------------- query errors


ERRORS = [
    ({"filter": ["dx:SA02", "pe:2025Q2"]}, 409, "E7101"),
    ({"dimension": "pe:2025Q2"}, 409, "E7102"),
    ({"dimension": ["dx:SA02", "pe:2025Q2"], "filter": "pe:2025Q1"}, 409, "E7103"),
    ({"dimension": ["dx:SA02", "ou:KE"]}, 409, "E7104"),
    ({"dimension": ["dx:SA02", "pe"]}, 409, "E7104"),
    ({"dimension": ["pe:2025Q2"], "filter": "dx:SA02;SA03"}, 409, "E7108"),
    ({"dimension": ["dx:SA02", "pe:2025Q2"], "filter": "co"}, 409, "E7110"),
    ({"dimension": ["dx:SA02", "pe:2025Q2", "dx:SA03"]}, 409, "E7111"),
    ({"dimension": ["dx:SA03", "co", "pe:2025Q2"]}, 409, "E7113"),
    ({"dimension": ["dx:SA03;SA03.N", "co", "pe:2025Q2"]}, 409, "E7114"),
    ({"dimension": ["dx:NOPE;ALSO_NOT", "pe:2025Q2"]}, 409, "E7124"),
    ({"dimension": ["dx", "pe:2025Q2"]}, 409, "E7124"),
    ({"dimension": ["dx:SA02", "pe:2025Q2", "J5jldMd8OHv:abc"]}, 409, "E7125"),
    ({"dimension": ["dx:SA02", "pe:2025Q2", "ou:LEVEL-9"]}, 409, "E7143"),
    ({"dimension": ["dx:SA02", "pe:2025Q2", "ou:nowhere"]}, 409, "E7143"),
    ({"dimension": ["dx:SA02", "pe:2025Q9"]}, 409, "E7611"),
    ({"dimension": ["dx:SA02", "pe:LAST_52_WEEKS"]}, 409, "E7611"),
    ({"dimension": ["dx:SA02", "pe:1850"]}, 409, "E7611"),
    ({"dimension": ["dx:SA02", "pe:2025Q2"], "filter": "ou:001;002"}, 409, "E7133"),
    ({"dimension": ["dx:SA02", "pe:" + ";".join(str(year) for year in range(1901, 2030))]}, 409, "E7128"),
    ({"dimension": ["dx:SA01;SA02;SA03;SA04;SA05;SA06;SA07;SA08;SA09;SA10;SA11", "ou:LEVEL-2",
                    "pe:" + ";".join(str(year) for year in range(1930, 2030))]}, 409, "E7128"),  # 11 × 47 × 100
    ({"dimension": ["dx:SA02", "pe:2025Q2"], "skipMeta": "maybe"}, 400, None),
    ({"dimension": ["dx:SA02", "pe:2025Q2"], "outputIdScheme": "ATTRIBUTE:x"}, 400, None),
    ({"dimension": ["dx:SA02", "pe:LAST_4_QUARTERS"], "relativePeriodDate": "yesterday"}, 400, None),
]


@pytest.mark.parametrize(("params", "status", "code"), ERRORS)
def test_bad_queries_get_dhis2s_error(live, params, status, code):
    answer = get(live, "/api/analytics", inputIdScheme="CODE", **params)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["httpStatusCode"] == status and body["status"] == "ERROR" and body["message"]
    assert body.get("errorCode") == code


def test_the_dhis2_client_raises_with_the_web_message(live):
    dhis2 = client(live, "viewer")
    with pytest.raises(DHIS2HTTPError) as caught:
        dhis2.get_analytics_data(dx="nope", pe="2025Q2")
    dhis2.close()
    assert caught.value.status_code == 409 and caught.value.payload["errorCode"] == "E7124"


_WORDS = ["dx", "pe", "ou", "co", "ao", "SA02", "SA03.N", "KE", "042", "LEVEL-2", "LEVEL-x", "USER_ORGUNIT",
          "2025Q2", "2024July", "2025", "202505", "LAST_4_QUARTERS", "THIS_FINANCIAL_YEAR", "OU_GROUP-a", "", " "]
_PIECE = st.one_of(st.sampled_from(_WORDS), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                                     max_size=12))
_PARAM = st.builds(lambda name, items, sep: name + sep + ";".join(items), _PIECE, st.lists(_PIECE, max_size=4),
                   st.sampled_from([":", ":", "", "::"]))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dimensions=st.lists(_PARAM, max_size=4), filters=st.lists(_PARAM, max_size=2),
       extra=st.dictionaries(st.sampled_from(["skipRounding", "displayProperty", "outputIdScheme", "inputIdScheme",
                                              "includeNumDen", "relativePeriodDate"]), _PIECE, max_size=2))
def test_no_dimension_string_breaks_the_server(live, dimensions, filters, extra):
    answer = get(live, "/api/analytics", dimension=dimensions, filter=filters, **extra)
    assert answer.status_code in (200, 400, 409), answer.text
    body = answer.json()
    if answer.status_code == 200:
        assert set(body) >= {"headers", "metaData", "rows", "height", "width", "headerWidth"}
    else:
        assert body["status"] == "ERROR" and body["message"]
