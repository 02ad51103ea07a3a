"""What cannot be read reaches the coordinators with the original attached (secure addresses
only), and the effect that sends it copes with an erased or oversized original."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import child, email
from shared.case import EmailEffect, EmailPurpose, OriginalFiles
from shared.effects import MAX_ORIGINALS_BYTES, EffectDelivery
from shared.mail import Attachment
from shared.notices import Notices
from shared.outcome import Outcome
from shared.schedules import ScheduleSync
from shared.settings import Settings
from tests.outbox_fakes import FakeMailer, FakeMailEraser, MemoryOutbox, MemoryScheduler
from tests.unit.test_decisions import Desk

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def manual_entries(effects: Sequence[object]) -> list[EmailEffect]:
    return [
        effect
        for effect in effects
        if isinstance(effect, EmailEffect) and effect.purpose is EmailPurpose.MANUAL_ENTRY
    ]


def test_a_scan_is_rejected_and_copied_to_secure_coordinators_only(desk: Desk) -> None:
    decision = desk.receive(
        email(("scan.pdf", scanned_pdf()), ("photo.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"))
    )
    assert decision.outcome is Outcome.REJECTED
    secure, other = manual_entries(decision.effects)
    assert secure.to == ("dsr.coordinator@nhs.net",)
    assert secure.originals == OriginalFiles(message_id="msg-1", positions=(1, 2))
    assert other.to == ("dsr.admin@bromley.gov.uk",) and other.originals is None
    assert "not attached" in other.body


def test_readable_forms_send_no_manual_entry_copy(desk: Desk) -> None:
    from infrastructure.samples import referral_pdf

    decision = desk.receive(email(("referral.pdf", referral_pdf(**child(3)))))
    assert manual_entries(decision.effects) == []


def test_untrusted_mail_is_quarantined_without_a_copy(desk: Desk) -> None:
    # DMARC failed: not a self-referral (that waits for a coordinator to verify it first).
    auth = "spf=pass smtp.mailfrom=gmail.com; dkim=pass; dmarc=fail header.from=gmail.com"
    decision = desk.receive(email(("scan.pdf", scanned_pdf()), sender="x@gmail.com", auth=auth))
    assert decision.outcome is Outcome.QUARANTINED
    assert manual_entries(decision.effects) == []


EFFECT = EmailEffect(
    purpose=EmailPurpose.MANUAL_ENTRY,
    to=("dsr.coordinator@nhs.net",),
    subject="s",
    body="body\n",
    originals=OriginalFiles(message_id="m", positions=(2,)),
)


@pytest.mark.parametrize(
    ("held", "attached", "note"),
    [
        ([Attachment(position=2, content_type="image/jpeg", content=b"jpeg")], 1, None),
        ([], 0, "no longer held"),
        (
            [
                Attachment(
                    position=2,
                    content_type="application/pdf",
                    content=b"x" * (MAX_ORIGINALS_BYTES + 1),
                )
            ],
            0,
            "too large",
        ),
    ],
)
def test_the_copy_attaches_what_is_still_held_and_fits(
    held: list[Attachment], attached: int, note: str | None
) -> None:
    mailer = FakeMailer()
    outbox = MemoryOutbox()
    [outbox_id] = outbox.add("m", [EFFECT], None, NOW)
    delivery = EffectDelivery(
        outbox,
        mailer,
        ScheduleSync(outbox, MemoryScheduler(), Settings(), lambda: NOW),
        FakeMailEraser(held),
        Notices(Settings()),
        lambda: NOW,
    )
    done = delivery.deliver(outbox_id)
    [(sent, files)] = mailer.sent
    assert outbox.items == {}
    assert len(files) == attached and done == f"email:manual_entry:files={attached}"
    assert (note in sent.body) if note else sent.body == "body\n"


def test_an_original_larger_than_the_intakes_limit_is_still_attached_whole() -> None:
    """The intake reads files up to MaxAttachmentBytes (10 MB by default); the coordinators'
    copy may carry up to MAX_ORIGINALS_BYTES, so it is read to that limit."""
    import io

    from infrastructure.samples import email
    from shared.adapters.mail_store import RawMailStore

    big = b"\xff\xd8\xff" + b"j" * (12 * 1024 * 1024)  # a 12 MB photo of a form
    raw = email(("scan.jpg", big, "image/jpeg"))

    class _Bucket:
        class exceptions:
            NoSuchKey = KeyError

        def get_object(self, Bucket: str, Key: str) -> dict[str, io.BytesIO]:
            return {"Body": io.BytesIO(raw)}

    [original] = RawMailStore(_Bucket(), "mail").original_files("m1", (1,))
    assert original.content == big and original.full_size == len(big)
