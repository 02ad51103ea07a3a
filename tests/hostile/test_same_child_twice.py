"""High: `IntakeService.process` raises (`ConcurrentChangeError`) on one email holding the
same child's forms twice, when one NHS number carries an invisible mark.

`by_child` groups forms by `_child_key`, which normalises the NHS number with spaces and
dashes removed only; the validated NHS number (`FieldReader.nhs_number`) has control and
bidirectional characters removed first (`_clean`). So `943 476 5919` and `943 476 5919`
followed by U+200E (a left-to-right mark, which copying from many web systems adds) are two
"children" but one person. Each part is decided against the same register state, both open
a new case for the same person, and recording the second part fails its condition. The
exception is not caught (only AlreadyRecordedError is), so the email fails and is retried
into the DLQ path; the first part is already recorded. The same happens with two consents
for a child already on the register (both renew the same case version).

Fix: group by exactly what identifies the person, the validated NHS number (run the field
through the same `_clean` + `normalise_nhs_number`, or better, validate first and group by
the validated number); and decide the parts in turn against the register as each earlier
part leaves it (or merge parts that name the same person key), catching a
ConcurrentChangeError of one part as that part's outcome.
"""

from __future__ import annotations

from shared.outcome import Outcome
from tests.hostile.builders import (
    PERSON,
    REFERRER,
    from_line,
    message,
    raw_email,
    ses_results,
    typed_consent,
    typed_referral,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk

NHS = PERSON["child_nhs_number"]
LRM = "\u200e"


def _typed(body: str) -> bytes:
    return raw_email(
        (from_line(REFERRER, "Dr Sam Patel"),),
        auth=(ses_results("nhs.net"),),
        body=message(subject="DSR referral", body=body),
    )


def test_a_referral_and_two_consents_one_with_a_mark_in_the_nhs_number_is_an_outcome(
    desk: Desk,
) -> None:
    body = "\n".join(
        [typed_referral(), typed_consent(), typed_consent(child_nhs_number=NHS + LRM)]
    )
    processed = desk.receive(_typed(body))  # raises ConcurrentChangeError today
    assert processed.outcome in (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.UPDATED)


def test_two_consents_for_a_child_on_the_register_one_with_a_mark_is_an_outcome(
    seeded: Seeded,
) -> None:
    body = typed_consent() + "\n" + typed_consent(child_nhs_number=NHS + LRM)
    processed = seeded.desk.receive(_typed(body))  # raises ConcurrentChangeError today
    assert processed.outcome in (Outcome.UPDATED, Outcome.REJECTED, Outcome.DUPLICATE)
