"""The register in numbers: what the panel, NHS England and FOI requests ask of a register.

Counts only, never a name: people on the register by rating, age band, local authority,
diagnosis and services; the flows in and out per month; the inpatients (Blue) with a C(E)TR
and with a keyworker; and Assuring Transformation's question - of the admissions (cases
rated Blue) each month, how many were of people already on the register before it.
Test data (the smoke test's cases) is never counted. Each group is in people's words, not
the register's codes (shared.console.wording): "CAMHS", "Consent withdrawn".
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from shared.case import Case, CaseStatus
from shared.console.wording import closure_words, label_of
from shared.dates import age_on
from shared.panel_pack import InertWriter
from shared.rating import Rating
from shared.reminders import keyworker_referral, last_ctr
from shared.synthetic import is_test_case

AGE_BANDS = ((0, 4), (5, 9), (10, 13), (14, 15), (16, 17), (18, 25))
NOT_GIVEN = "not given"


def age_band(age: int) -> str:
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return f"{AGE_BANDS[-1][1] + 1}+"


def _month(day: date) -> str:
    return f"{day:%Y-%m}"


@dataclass
class Admissions:
    """One month's admissions: cases rated Blue that month (at referral or at a review)."""

    total: int = 0
    known_before: int = 0  # the person was on the register before the admission


@dataclass
class Population:
    on: date
    by_rating: Counter[str] = field(default_factory=Counter)
    by_age_band: Counter[str] = field(default_factory=Counter)
    by_local_authority: Counter[str] = field(default_factory=Counter)
    by_diagnosis: Counter[str] = field(default_factory=Counter)
    by_service: Counter[str] = field(default_factory=Counter)
    joined_by_month: Counter[str] = field(default_factory=Counter)
    left_by_month: Counter[tuple[str, str]] = field(default_factory=Counter)  # (month, reason)
    inpatients: int = 0
    inpatients_with_ctr: int = 0
    inpatients_with_keyworker: int = 0
    admissions_by_month: dict[str, Admissions] = field(default_factory=dict)


def _diagnoses(case: Case) -> list[str]:
    referral = case.referral
    if referral is None:
        return [NOT_GIVEN]
    found = [
        label_of(name)  # the form's own label: "Diagnosed autism (ASC)"
        for name, ticked in (
            ("diagnosis_learning_disability", referral.diagnosis_learning_disability),
            ("diagnosis_autism", referral.diagnosis_autism),
            ("diagnosis_awaiting_assessment", referral.diagnosis_awaiting_assessment),
        )
        if ticked
    ]
    return found or [NOT_GIVEN]


def _admissions(case: Case, population: Population) -> None:
    """Each time the case was rated Blue from another rating (or first rated Blue): an
    admission. Known before it when a panel review recorded it (the person was on the
    register); not when the referral itself came in Blue (referred once admitted)."""
    previous: Rating | None = None
    for change in case.rating_history:
        if change.rating is Rating.BLUE and previous is not Rating.BLUE:
            month = population.admissions_by_month.setdefault(_month(change.on), Admissions())
            month.total += 1
            month.known_before += change.source != "referral"
        previous = change.rating


def population(cases: Iterable[Case], today: date) -> Population:
    counted = Population(on=today)
    for case in cases:
        if is_test_case(case):
            continue
        if case.accepted_at is not None:
            counted.joined_by_month[_month(case.accepted_at.date())] += 1
        if case.closure is not None:
            why = closure_words(case.closure.reason.value)
            counted.left_by_month[(_month(case.closure.on), why)] += 1
        if case.status is not CaseStatus.WITHDRAWN:
            _admissions(case, counted)
        child = case.child
        if case.status is not CaseStatus.ACTIVE or child is None:
            continue
        rating = case.rating.value if case.rating else NOT_GIVEN
        counted.by_rating[rating] += 1
        counted.by_age_band[age_band(age_on(child.date_of_birth, today))] += 1
        authority = case.referral.details.get("local_authority", "") if case.referral else ""
        counted.by_local_authority[" ".join(authority.split()).title() or NOT_GIVEN] += 1
        counted.by_diagnosis.update(_diagnoses(case))
        services = case.referral.services if case.referral else ()
        counted.by_service.update(label_of(name) for name in services)  # "CAMHS"
        if case.rating is Rating.BLUE:
            counted.inpatients += 1
            counted.inpatients_with_ctr += last_ctr(case) is not None
            counted.inpatients_with_keyworker += keyworker_referral(case) is not None
    return counted


def population_csv(counted: Population) -> str:
    """The counts as one long table (measure, group, count): inert cells, no names."""
    out = io.StringIO()
    writer = InertWriter(out)
    writer.writerow(["measure", "group", "count"])
    for measure, counter in (
        ("on the register by rating", counted.by_rating),
        ("on the register by age band", counted.by_age_band),
        ("on the register by local authority", counted.by_local_authority),
        ("on the register by diagnosis", counted.by_diagnosis),
        ("on the register by service involved", counted.by_service),
        ("joined the register by month", counted.joined_by_month),
    ):
        for group, count in sorted(counter.items()):
            writer.writerow([measure, group, str(count)])
    for (month, reason), count in sorted(counted.left_by_month.items()):
        writer.writerow(["left the register by month", f"{month} {reason}", str(count)])
    writer.writerow(["inpatients (Blue)", "all", str(counted.inpatients)])
    writer.writerow(["inpatients (Blue)", "with a C(E)TR", str(counted.inpatients_with_ctr)])
    keyworkers = str(counted.inpatients_with_keyworker)
    writer.writerow(["inpatients (Blue)", "with a keyworker", keyworkers])
    for month, admissions in sorted(counted.admissions_by_month.items()):
        writer.writerow(["admissions (rated Blue) by month", month, str(admissions.total)])
        writer.writerow(
            ["admissions of people on the register before", month, str(admissions.known_before)]
        )
    return out.getvalue()
