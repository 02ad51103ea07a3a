"""The register in numbers, from cases the intake and reviews really made (real PDFs through
the decider, no AWS): counts by rating, age band, local authority, diagnosis and service,
the flows, the inpatients, and Assuring Transformation's admissions question."""

from __future__ import annotations

import csv
import io

import pytest

from infrastructure.samples import TICK, child, consent_pdf, email, referral_pdf, review_pdf
from shared.case import Case, CaseStatus, Closure, ClosureReason
from shared.console.population import age_band, population, population_csv
from shared.outcome import Outcome
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

TODAY = NOW.date()
MONTH = f"{TODAY:%Y-%m}"
COORDINATOR = "dsr.coordinator@nhs.net"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def accepted(desk: Desk, seed: int, rating: str = "Amber", **fields: str) -> Case:
    person = child(seed)
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person, suggested_rag=rating, **fields)),
            ("c.pdf", consent_pdf(**person)),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return decision.case


def reviewed(desk: Desk, seed: int, case: Case, rating: str) -> Case:
    decision = desk.receive(
        email(
            ("review.pdf", review_pdf(child(seed), case.case_id, rag_rating=rating)),
            sender=COORDINATOR,
        )
    )
    assert decision.outcome is Outcome.UPDATED and decision.case is not None, decision.reasons
    return decision.case


def test_counts_of_the_people_on_the_register(desk: Desk) -> None:
    cases = [
        accepted(desk, 301, "Red", local_authority="  bromley "),
        accepted(desk, 302, "Amber", local_authority="Bromley"),
        accepted(desk, 303, "Amber"),
    ]
    counted = population(cases, TODAY)
    assert counted.by_rating == {"Red": 1, "Amber": 2}
    assert counted.by_age_band == {"14-15": 3}
    assert counted.by_local_authority == {"Bromley": 2, "not given": 1}
    assert sum(counted.by_diagnosis.values()) >= 3  # each person at least once
    assert counted.joined_by_month == {MONTH: 3}


def test_closed_and_withdrawn_people_are_not_on_it_but_their_leaving_is_counted(desk: Desk) -> None:
    staying = accepted(desk, 311)
    leaving = accepted(desk, 312).model_copy(
        update={
            "status": CaseStatus.CLOSED,
            "closure": Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=TODAY),
        }
    )
    counted = population([staying, leaving], TODAY)
    assert sum(counted.by_rating.values()) == 1
    assert counted.left_by_month == {(MONTH, "Removed by the panel"): 1}


def test_the_groups_are_in_the_forms_words_not_the_registers_codes(desk: Desk) -> None:
    """Services and diagnoses by the referral form's own labels, a leaving by its reason in
    words - on the page and in the CSV alike (#11 walkthrough: "camhs", "consent_withdrawn")."""
    staying = accepted(desk, 351, service_social_care=TICK)  # CAMHS and autism ticked too
    withdrawn = accepted(desk, 352).model_copy(
        update={"status": CaseStatus.WITHDRAWN,
                "closure": Closure(reason=ClosureReason.CONSENT_WITHDRAWN, on=TODAY)}
    )  # fmt: skip
    counted = population([staying, withdrawn], TODAY)
    assert counted.by_service == {"CAMHS": 1, "Social care": 1}
    assert counted.by_diagnosis == {"Diagnosed autism (ASC)": 1}
    assert counted.left_by_month == {(MONTH, "Consent withdrawn"): 1}
    rows = list(csv.reader(io.StringIO(population_csv(counted))))
    assert ["on the register by service involved", "CAMHS", "1"] in rows
    assert ["left the register by month", f"{MONTH} Consent withdrawn", "1"] in rows
    assert not any("_" in cell or cell in {"camhs", "autism"} for row in rows for cell in row)


def test_admissions_known_to_the_register_before_and_inpatients(desk: Desk) -> None:
    # Referred once already in hospital: an admission the register did not know before.
    admitted_first = accepted(desk, 321, "Blue")
    # On the register as Amber, then a review records the admission: known before.
    known = reviewed(desk, 322, accepted(desk, 322, "Amber"), "Blue")
    counted = population([admitted_first, known], TODAY)
    month = counted.admissions_by_month[f"{TODAY:%Y-%m}"]
    assert (month.total, month.known_before) == (2, 1)
    assert counted.inpatients == 2
    assert counted.inpatients_with_ctr == 0 and counted.inpatients_with_keyworker == 0


def test_test_data_is_never_counted(desk: Desk, settings: Settings) -> None:
    """The smoke test's cases (a 999 NHS number, from its own sender) are never counted."""
    smoke = "dsr.smoke-test@nhs.net"
    smoke_desk = Desk(settings.model_copy(update={"smoke_test_senders": (smoke,)}))
    person = {**child(331), "child_nhs_number": "9990000018"}
    decision = smoke_desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)), sender=smoke)
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    counted = population([decision.case, accepted(desk, 332)], TODAY)
    assert sum(counted.by_rating.values()) == 1 and counted.joined_by_month == {MONTH: 1}


def test_the_csv_is_counts_only_and_inert(desk: Desk) -> None:
    person = child(341)
    case = accepted(desk, 341, local_authority='=HYPERLINK("x")')
    text = population_csv(population([case], TODAY))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["measure", "group", "count"]
    assert ["on the register by rating", "Amber", "1"] in rows
    assert not any(cell.startswith("=") for row in rows for cell in row)
    for value in (
        person["child_given_name"],
        person["child_family_name"],
        person["child_nhs_number"],
    ):
        assert value not in text


@pytest.mark.parametrize(
    ("age", "band"), [(0, "0-4"), (13, "10-13"), (17, "16-17"), (25, "18-25"), (26, "26+")]
)
def test_age_bands(age: int, band: str) -> None:
    assert age_band(age) == band
