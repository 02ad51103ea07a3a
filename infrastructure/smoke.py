"""`dsr-intake ops smoke`: a synthetic referral through the real inbox, and proof that a
deployment works end to end and forgets it again.

1. A referral and consent form for a made-up child: an NHS number from the range reserved
   for testing (999..., valid check digit: test data, `shared.synthetic`), obviously
   synthetic names, an age the register takes, a token of the run in its subject and
   `X-DSR-Smoke` header; sent by the route (`smoke_routes`) from the smoke address to the
   inbox.
2. Waits, bounded and saying so, for its outcome (accepted), the acknowledgement threaded to
   it (In-Reply-To its Message-ID) and the case's review schedule.
3. Erases the case through `ops erase-test-case` (the withdrawal's erasure), deletes the
   answers the route kept, and proves nothing of it is left: the case is a tombstone, no
   person lookup, no case events, no undelivered outbox item of the case, no raw email or
   derived object, no schedule, no answer kept, and the email's outcome record holds none of
   the child's details.

Whatever fails after the case exists, the case is still erased and the answers deleted.
Output carries the case reference and message ids only.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from infrastructure import ops
from infrastructure.smoke_routes import MailRoute
from shared.case import CaseStatus
from shared.mail import parse_mail
from shared.outcome import Outcome
from shared.synthetic import draw_test_nhs_number


class SmokeFailedError(ops.OpsError):
    """The deployment did not do what the smoke test checks (the message says which step)."""


SMOKE_HEADER = "X-DSR-Smoke"  # the run's token: finds the referral where its id may differ


@dataclass(frozen=True)
class SyntheticReferral:
    raw: bytes
    message_id: str  # its Message-ID header, `<...>`
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date

    def sent_as(self, message_id: str) -> bytes:
        """The email with the Message-ID the sending service gave it (the same, or its own)."""
        message = message_from_bytes(self.raw, policy=SMTP)
        message.replace_header("Message-ID", message_id)
        return message.as_bytes()

    def details(self) -> list[str]:
        """The child's details as they could be stored: none may be left after the erasure."""
        spaced = f"{self.nhs_number[:3]} {self.nhs_number[3:6]} {self.nhs_number[6:]}"
        born = self.date_of_birth
        return [
            self.nhs_number,
            spaced,
            self.given_name,
            self.family_name,
            born.isoformat(),
            born.strftime("%d/%m/%Y"),
        ]


def synthetic_referral(
    sender: str, inbox: str, minimum_age: int, maximum_age: int
) -> SyntheticReferral:
    """A referral and consent form for a made-up child the register takes (the middle of
    its age range), from `sender` to `inbox`."""
    from infrastructure.samples import consent_pdf, referral_pdf, uk, years_ago

    nhs_number = draw_test_nhs_number(lambda: secrets.randbelow(1_000_000))
    given, family = "Synthetic", "Smoketest"
    born = years_ago((minimum_age + maximum_age) // 2)
    child = {
        "child_given_name": given,
        "child_family_name": family,
        "child_date_of_birth": uk(born),
        "child_nhs_number": nhs_number,
    }
    referral = referral_pdf(
        **child,
        child_address="1 Smoke Test Street, Bromley",
        mental_health_concern="None: this is a synthetic referral made by the smoke test.",
        reason_for_referral="Smoke test of the deployment (test data, erased at once).",
        referrer_name="Smoke Test",
        referrer_role="Automated smoke test",
        referrer_organisation="DSR Intake smoke test",
        referrer_email=sender,
    )
    consent = consent_pdf(
        **child,
        consenting_person_name="Smoke Test Parent",
        consent_given_by="Smoke Test Parent",
    )
    message = EmailMessage()
    message["From"] = sender
    message["To"] = inbox
    token = secrets.token_hex(8)
    message["Subject"] = f"DSR referral (smoke test {token}, synthetic data)"
    message_id = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Message-ID"] = message_id
    message[SMOKE_HEADER] = token
    message.set_content("Smoke test: a synthetic referral and consent form (test NHS number).")
    for name, content in (("referral.pdf", referral), ("consent.pdf", consent)):
        message.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return SyntheticReferral(bytes(message), message_id, nhs_number, given, family, born)


class SmokeTest:
    """One run against a stack (`ops.Target`) through one route. The steps are public, so a
    test can put a fault between them."""

    def __init__(
        self,
        target: ops.Target,
        route: MailRoute,
        say: Callable[[str], None] = print,
        wait_seconds: float = 300,
        poll_seconds: float = 10,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from shared.adapters.register_table import RegisterTable

        self.target = target
        self.route = route
        self.say = say
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.sleep = sleep
        self.register = RegisterTable(target.client("dynamodb"), target.resource("RegisterTable"))
        self.referral = synthetic_referral(
            route.sender,
            route.inbox,
            int(target.parameter("MinimumAge") or 0),
            int(target.parameter("MaximumAge") or 17),
        )
        self.ses_message_id: str | None = None
        self.case_id: str | None = None

    def run(self) -> list[str]:
        """Every step; returns what was proved, a line each. Raises SmokeFailedError."""
        self.send()
        failure: SmokeFailedError | None = None
        try:
            self.await_outcome()
            self.await_answer_and_schedule()
        except SmokeFailedError as error:
            failure = error
        erased = self.erase_and_clean_up()
        if failure is not None:
            raise SmokeFailedError(f"{failure}. {erased}")
        self.check_nothing_left()
        return [
            f"smoke test passed: case {self.case_id} accepted, acknowledged and scheduled, "
            "then erased; nothing of it is left"
        ]

    # ----- the steps -----
    def send(self) -> None:
        self.say(f"sending a synthetic referral {self.referral.message_id} to the inbox")
        self.route.send(self.referral.raw)

    def _until(self, what: str, look: Callable[[], str | None]) -> None:
        """Look until `look()` gives None (done) or the wait is over; `look` says what is
        still missing."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            missing = look()
            if missing is None:
                return
            if time.monotonic() >= deadline:
                raise SmokeFailedError(f"{what}: {missing} after {self.wait_seconds:.0f} seconds")
            self.say(f"   waiting for {what}: {missing}")
            self.sleep(self.poll_seconds)

    def await_outcome(self) -> None:
        def look() -> str | None:
            if self.ses_message_id is None:
                sent_as = self.route.message_id_sent(self.referral.message_id)
                if sent_as is None:
                    return "the sending mailbox does not show it sent yet"
                # Found as the intake keys an email (its sender and Message-ID as it went).
                self.ses_message_id = self.register.first_submission_with_header(
                    parse_mail(self.referral.sent_as(sent_as)).duplicate_key
                )
            recorded = self.ses_message_id and self.register.submission(self.ses_message_id)
            if not recorded:
                return "no outcome recorded yet (a quarantined email records none here: see the coordinators' alert)"
            if recorded.outcome is not Outcome.ACCEPTED:
                codes = ", ".join(reason.code.value for reason in recorded.reasons)
                raise SmokeFailedError(
                    f"the smoke referral came to {recorded.outcome.value} ({codes}), not accepted"
                )
            self.case_id = recorded.case_id
            return None

        self._until("its outcome", look)
        self.say(f"accepted: case {self.case_id} (email {self.ses_message_id})")

    def await_answer_and_schedule(self) -> None:
        from shared.adapters.review_schedule import schedule_name

        assert self.case_id is not None
        case_id = self.case_id

        def look() -> str | None:
            answer = self.route.answer_to(self.referral.message_id)
            if answer is None:
                return "no acknowledgement threaded to it yet"
            if case_id not in answer.subject + answer.body:
                raise SmokeFailedError(f"the answer to the smoke referral does not name {case_id}")
            if not self._schedule_exists(schedule_name(case_id)):
                return "no review schedule yet"
            return None

        self._until("the acknowledgement and the review schedule", look)
        self.say("the acknowledgement arrived and the review schedule exists")

    def _schedule_exists(self, name: str) -> bool:
        scheduler = self.target.client("scheduler")
        try:
            scheduler.get_schedule(Name=name, GroupName=self.target.resource("ReviewScheduleGroup"))
        except scheduler.exceptions.ResourceNotFoundException:
            return False
        return True

    def erase_and_clean_up(self) -> str:
        done = []
        if self.case_id is not None:
            done.append(ops.erase_test_case(self.target, self.case_id).split(";", 1)[0])
        deleted = self.route.clean_up(self.referral.message_id)
        done.append(f"smoke messages deleted: {deleted}")
        line = "; ".join(done)
        self.say(line)
        return line

    def check_nothing_left(self) -> None:
        assert self.case_id is not None and self.ses_message_id is not None
        self._until(f"case {self.case_id} to be erased", self._left_over)
        self.say(f"nothing of case {self.case_id} is left")

    def _left_over(self) -> str | None:
        """What of the smoke case is still held, in words (None: nothing)."""
        from shared.adapters.identity import KmsIdentityHasher
        from shared.adapters.mail_store import DERIVED_PREFIX, raw_mail_key
        from shared.adapters.review_schedule import schedule_name

        assert self.case_id is not None and self.ses_message_id is not None
        case_id, left = self.case_id, []
        case = self.register.case(case_id)
        if case is None or case.status is not CaseStatus.WITHDRAWN or case.child or case.person_key:
            left.append("the case is not a tombstone")
        hasher = KmsIdentityHasher(self.target.client("kms"), self.target.resource("IdentityKey"))
        if self.register.case_for_person(hasher.person_key(self.referral.nhs_number)):
            left.append("the person lookup")
        if self.register.case_events(case_id):
            left.append("the case's list of events")
        later = datetime.now(UTC) + timedelta(days=1)
        outbox = [
            self.register.outbox_entry(item) for item in self.register.undelivered_outbox(later)
        ]
        if any(entry is not None and entry.case_id == case_id for entry in outbox):
            left.append("an outbox item")
        s3, bucket = self.target.client("s3"), self.target.resource("RawMailBucket")
        raw = s3.list_objects_v2(Bucket=bucket, Prefix=raw_mail_key(self.ses_message_id))
        derived = s3.list_objects_v2(Bucket=bucket, Prefix=f"{DERIVED_PREFIX}{case_id}/")
        if raw.get("KeyCount") or derived.get("KeyCount"):
            left.append("its stored email")
        if self._schedule_exists(schedule_name(case_id)):
            left.append("its review schedule")
        if self.route.answer_to(self.referral.message_id) is not None:
            left.append("an answer kept by the smoke route")
        kept = self.register.submission(self.ses_message_id)
        if kept is None or any(d in kept.model_dump_json() for d in self.referral.details()):
            left.append("the email's outcome record (missing, or holding the child's details)")
        return ", ".join(left) or None
