from email.message import EmailMessage

from infrastructure.samples import email, referral_pdf
from shared.mail import parse_mail, trust_reasons
from shared.settings import Settings, domain_matches


def test_sender_domains_follow_the_allowlist_patterns() -> None:
    patterns = Settings().allowed_sender_domains
    assert domain_matches("a.b@nhs.net", patterns)
    assert domain_matches("a@selondonics.nhs.uk", patterns)
    assert domain_matches("a@bromley.gov.uk", patterns)
    assert domain_matches("a@school.sch.uk", patterns)
    assert not domain_matches("a@nhs.uk", patterns)  # *.nhs.uk means a subdomain
    assert not domain_matches("a@sub.nhs.net", patterns)  # nhs.net means exactly nhs.net
    assert not domain_matches("a@evilnhs.uk", patterns)
    assert not domain_matches("a@gmail.com", patterns)
    assert not domain_matches("no-at-sign", patterns)


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_environment(
        {
            "DSR_MINIMUM_AGE": "14",
            "DSR_SECURE_DOMAINS": "nhs.net, Kingston.gov.uk",
            "DSR_COORDINATOR_ADDRESSES": "A@nhs.net,b@nhs.net",
            "DSR_REVIEW_INTERVAL_DAYS_RED": "7",
        }
    )
    assert settings.minimum_age == 14 and settings.maximum_age == 17
    assert settings.secure_domains == ("nhs.net", "kingston.gov.uk")
    assert settings.coordinator_addresses == ("a@nhs.net", "b@nhs.net")
    assert settings.review_interval_days_red == 7


def test_mime_is_read_with_ses_verdicts() -> None:
    mail = parse_mail(email(("r.pdf", referral_pdf()), virus="FAIL", sender="Sam.Patel@NHS.net"))
    assert mail.sender == "sam.patel@nhs.net"
    assert mail.verdicts.virus == "FAIL" and mail.verdicts.spam == "PASS"
    assert mail.verdicts.dmarc == "PASS" and mail.verdicts.dkim == "PASS"
    assert len(mail.attachments) == 1 and mail.attachments[0].looks_like_pdf


def test_only_the_topmost_authentication_results_count() -> None:
    message = EmailMessage()
    message["Authentication-Results"] = (
        "amazonses.com; spf=pass; dkim=pass; dmarc=pass header.from=nhs.net"
    )
    message["Authentication-Results"] = "upstream.example; spf=fail; dkim=fail; dmarc=fail"
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["From"] = "a@nhs.net"
    message.set_content("x")
    assert trust_reasons(parse_mail(bytes(message)), Settings()) == []


def test_a_pdf_sent_as_octet_stream_is_still_a_pdf() -> None:
    mail = parse_mail(email(("form", referral_pdf(), "application/octet-stream")))
    assert mail.attachments[0].looks_like_pdf


def test_coordinators_are_trusted_senders_even_outside_the_domains() -> None:
    settings = Settings(coordinator_addresses=("coordinator@bromley.example",))
    mail = parse_mail(email(("r.pdf", referral_pdf()), sender="coordinator@bromley.example"))
    assert trust_reasons(mail, settings) == []


def test_spf_soft_fail_counts_only_without_dmarc() -> None:
    forwarded = parse_mail(
        email(("r.pdf", b"%PDF"), auth="spf=softfail; dkim=pass; dmarc=pass header.from=nhs.net")
    )
    assert trust_reasons(forwarded, Settings()) == []
    spoofed = parse_mail(
        email(("r.pdf", b"%PDF"), auth="spf=softfail; dkim=none; dmarc=none header.from=nhs.net")
    )
    assert [r.code.value for r in trust_reasons(spoofed, Settings())] == ["MAIL_AUTH_FAILED"]


def test_files_are_found_however_the_client_nests_them() -> None:
    from email.message import EmailMessage

    inner = EmailMessage()
    inner.set_content("see attached")
    inner.add_attachment(referral_pdf(), maintype="application", subtype="pdf", filename="r.pdf")
    outer = EmailMessage()
    outer["From"] = "a@nhs.net"
    outer.set_content("body")
    outer.add_attachment(inner)  # a message inside the message
    only_pdf = EmailMessage()
    only_pdf["From"] = "a@nhs.net"
    only_pdf.set_content(
        referral_pdf(), maintype="application", subtype="pdf"
    )  # not multipart at all
    for raw in (bytes(outer), bytes(only_pdf)):
        [attachment] = parse_mail(raw).attachments
        assert attachment.looks_like_pdf
    text_only = EmailMessage()
    text_only["From"] = "a@nhs.net"
    text_only.set_content("no files here")
    text_only.add_alternative("<p>no files here</p>", subtype="html")
    assert parse_mail(bytes(text_only)).attachments == ()


def test_ages_out_of_order_are_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(
        ValidationError, match=r"MinimumAge \(16\) must not be more than MaximumAge \(10\)"
    ):
        Settings(minimum_age=16, maximum_age=10)


def test_days_settings_are_bounded_here_and_in_the_template() -> None:
    """A review interval of a million days would overflow every reminder's date arithmetic."""
    import pydantic
    import pytest

    from infrastructure.local_stack import load_template
    from shared.settings import MAX_DAYS_SETTING

    with pytest.raises(pydantic.ValidationError):
        Settings(review_interval_days_red=MAX_DAYS_SETTING + 1)
    declared = load_template()["Parameters"]
    for name in ("ReviewIntervalDaysRed", "ReviewIntervalDaysAmber", "ReviewIntervalDaysGreen",
                 "ReviewIntervalDaysBlue", "PendingExpiryDays", "ReviewGraceDays",
                 "FirstReviewDays", "CtrDueDays"):  # fmt: skip
        assert declared[name]["MaxValue"] == MAX_DAYS_SETTING, name
