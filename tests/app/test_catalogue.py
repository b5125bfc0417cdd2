"""The seeded catalogue: org-unit tree, disaggregations, indicators, forms, identifiers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mel.catalogue import queries
from mel.catalogue.models import (
    DisaggregationSet,
    Indicator,
    OrgUnit,
    Programme,
    ReportingForm,
)
from mel.errors import NotFound
from mel.uid import is_uid, stable_uid


def test_org_unit_tree_uses_a_materialised_path(session):
    kenya = queries.resolve_org_unit(session, "KE")
    assert kenya.level == 1 and kenya.path == "/KE/"
    kisumu = queries.resolve_org_unit(session, "042")
    assert (kisumu.name, kisumu.path, kisumu.iso_code, kisumu.parent_id) == (
        "Kisumu", "/KE/042/", "KE-17", kenya.id)
    under_kenya = list(session.scalars(queries.descendants_query(kenya, include_self=False)))
    assert len(under_kenya) == 47
    assert [u.code for u in session.scalars(queries.descendants_query(kisumu))] == ["042"]


@pytest.mark.parametrize(
    "ref, code",
    [("001", "001"), ("1", "001"), ("42", "042"), ("Kisumu", "042"), ("kisumu county", "042"),
     ("Taita Taveta", "006"), ("Taita-Taveta", "006"), ("Taita/Taveta", "006"),
     ("Elgeyo Marakwet", "028"), ("Elgeyo-Marakwet County", "028"), ("Muranga", "021"),
     ("Murang'a", "021"), ("Tharaka Nithi", "013"), ("Nairobi", "047"), ("Nairobi City", "047"),
     ("Homa Bay", "043"), ("Homabay", "043"), ("Trans-Nzoia", "026"), ("KE-30", "047"),
     ("KE", "KE"), ("Kenya", "KE")],
)
def test_county_references_resolve_with_spelling_variants(session, ref, code):
    assert queries.resolve_org_unit(session, ref).code == code


@pytest.mark.parametrize("ref", ["048", "Atlantis", "0", ""])
def test_unknown_org_units_say_what_is_accepted(session, ref):
    with pytest.raises(NotFound) as info:
        queries.resolve_org_unit(session, ref)
    assert "org unit" in info.value.message.lower()


def test_option_combinations_are_crossed_in_category_order(session):
    sets = {
        s.code: s
        for s in session.scalars(
            select(DisaggregationSet).options(selectinload(DisaggregationSet.combos))
        )
    }
    assert [c.code for c in sets["none"].combos] == ["default"]
    assert [c.code for c in sets["sex"].combos] == ["F", "M", "total"]
    sex_age = [c.code for c in sets["sex_age"].combos]
    assert len(sex_age) == 2 * 5 + 1
    assert "F_A70P" in sex_age and "M_A00_17" in sex_age and sex_age[-1] == "total"
    combo = next(c for c in sets["sex_age"].combos if c.code == "F_A70P")
    assert combo.name == "Female, 70 years and above"


def test_indicators_carry_their_reference_sheet(session):
    sa01 = queries.indicator(session, "SA01")
    assert (sa01.measure, sa01.time_aggregation, sa01.is_additive_across_programmes) == (
        "count", "last", False)
    assert sa01.disaggregation_set.code == "sex_age"
    assert sa01.results_node.code == "O1.1"
    assert sa01.definition and sa01.data_source and sa01.means_of_verification
    spx11 = queries.indicator(session, "SPX11")
    assert (spx11.measure, spx11.factor, spx11.direction) == ("ratio", 100, "increase")
    assert spx11.components == ("numerator", "denominator")
    assert "Grievances closed within standard" in spx11.numerator
    spx12 = queries.indicator(session, "SPX12")
    assert (spx12.unit, spx12.factor, spx12.direction) == ("days", 1, "decrease")


def test_every_metadata_object_has_a_stable_dhis2_uid(session):
    objects = [*session.scalars(select(OrgUnit)), *session.scalars(select(Indicator)),
               *session.scalars(select(Programme)), *session.scalars(select(ReportingForm))]
    assert objects and all(is_uid(o.uid) for o in objects)
    kisumu = queries.resolve_org_unit(session, "042")
    assert kisumu.uid == stable_uid("org_unit", "042")
    assert len({o.uid for o in objects}) == len(objects)


def test_one_reporting_form_per_programme_with_its_indicators_and_org_units(session):
    forms = {f.programme.code: f for f in queries.forms(session)}
    assert set(forms) == {p.code for p in session.scalars(select(Programme))}
    hsnp = forms["HSNP"]
    assert [u.code for u in hsnp.org_units_in("2025Q3")] == ["004", "007", "008", "009", "010", "011", "023", "025"]
    assert {i.indicator.code for i in hsnp.items_in("2025Q3")} >= {"SA07", "SA08", "SA09", "SA10", "SA11"}
    assert (hsnp.opens_days, hsnp.due_days, hsnp.closes_days) == (0, 15, 45)
    assert [u.code for u in forms["SPS"].org_units_in("2025Q3")] == ["KE"]
    assert len(forms["OPCT"].org_units_in("2025Q3")) == 47


def test_the_secretariat_edits_the_results_framework(client, session):
    from tests.helpers import csrf_token, login

    login(client, "secretariat@demo.test")
    page = client.get("/results-framework/edit").get_data(as_text=True)
    assert "name.O1.1" in page
    token = csrf_token(client, "/results-framework/edit")
    data = {"csrf_token": token, "new.code": "O1.4", "new.kind": "output", "new.parent": "O1",
            "new.name": "Beneficiaries graduate into economic inclusion", "new.order": "5",
            "name.O1.1": "Transfers paid in full, on schedule", "node.SA15": "O1.4"}
    response = client.post("/results-framework/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    framework = client.get("/results-framework").get_data(as_text=True)
    assert "O1.4</strong> Beneficiaries graduate" in framework
    assert "Transfers paid in full, on schedule" in framework
    assert queries.indicator(session, "SA15").results_node.code == "O1.4"
    bad = client.post("/results-framework/edit", data={**data, "csrf_token": csrf_token(client, "/results-framework/edit"),
                                                       "new.code": "O9", "new.kind": "output", "new.parent": ""})
    assert bad.status_code == 422 and "an output belongs under an outcome" in bad.get_data(as_text=True)
