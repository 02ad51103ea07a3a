"""Medium/high: anyone at a secure domain (any of NHSmail's ~1.5 million mailboxes) can read
a child's register entry by knowing only the NHS number.

A referral whose NHS number is already on the register is answered `already_on_register`
with `$child_details` of the case *held* (not of the referral sent): the child's real name,
date of birth, suggested rating, the original referrer's name, organisation and email, the
risk factors and the consent basis. Nothing checks that the new referral's name or date of
birth match the case before the case's details are sent (`IntakeDecider._apply` ->
`_already_registered`). The same holds for a referral to a case waiting for its consent.
An NHS number is easy to come by (a letter, a prescription, a GP record); a made-up name and
birth date are enough to learn whether a child is on the Dynamic Support Register and why.

Fix: answer an `already_on_register` with the case reference only (never `child_details`),
or only when the new form's identity (NHS number, date of birth, names) matches the case
held; tell the coordinators the details instead.
"""

from __future__ import annotations

from shared.outcome import Outcome
from tests.hostile.builders import (
    PERSON,
    from_line,
    message,
    raw_email,
    ses_results,
    typed_referral,
)
from tests.hostile.conftest import Seeded

PROBER = "someone.else@nhs.net"  # another NHSmail user, not the referrer of the case


def test_a_referral_naming_only_the_nhs_number_learns_nothing_of_the_case_held(
    seeded: Seeded,
) -> None:
    body = typed_referral(
        child_given_name="Zed",
        child_family_name="Nobody",
        child_date_of_birth="01/01/2015",
        referrer_email=PROBER,
    )
    raw = raw_email(
        (from_line(PROBER, "Curious Colleague"),),
        auth=(ses_results("nhs.net"),),
        body=message(subject="DSR referral", body=body),
    )
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.DUPLICATE, processed.submission.reasons
    to_prober = "\n".join(e.body for e in processed.emails if PROBER in e.to)
    assert to_prober, "the prober was not answered"
    for field in ("child_given_name", "child_family_name", "child_date_of_birth"):
        assert PERSON[field] not in to_prober, f"the case's {field} was sent to {PROBER}"
