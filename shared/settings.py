"""The one settings object. Every value comes from a template parameter via an environment
variable of the same meaning; the defaults here are the documented defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.rating import Rating

# Any "days" setting: a year at most (a review interval of a million days would overflow
# the date arithmetic of every reminder).
MAX_DAYS_SETTING = 365

# The age the adult register takes over: a register for "under 18s" ends here.
ADULT_REGISTER_AGE = 18

_LISTS = (
    "allowed_sender_domains",
    "secure_domains",
    "coordinator_addresses",
    "panel_addresses",
    "panel_pack_addresses",
    "trusted_forwarders",
    "dkim_aligned_domains",
    "smoke_test_senders",
)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    area_name: str = "Bromley"
    inbox_address: str = "dsr@example.nhs.uk"
    # `nhs.net` matches that domain exactly; `*.nhs.uk` matches any subdomain of nhs.uk.
    allowed_sender_domains: tuple[str, ...] = ("nhs.net", "*.nhs.uk", "*.gov.uk", "*.sch.uk")
    secure_domains: tuple[str, ...] = ("nhs.net",)
    coordinator_addresses: tuple[str, ...] = ("dsr.coordinator@nhs.net",)
    # Review outcome and withdrawal forms are taken from the coordinators and these panel
    # members, named one by one: a withdrawal erases a case, so never a whole domain.
    panel_addresses: tuple[str, ...] = ()
    lead_address: str = "dsr.lead@nhs.net"  # overdue reviews are escalated here
    panel_pack_addresses: tuple[str, ...] = ()  # besides the coordinators
    # Addresses that forward referrers' emails to us (the DSR's NHSmail shared mailbox): their
    # emails are judged and answered as from the original sender inside.
    trusted_forwarders: tuple[str, ...] = ()
    # Coordinators and panel members are recognised only when DMARC passed for their domain;
    # in these domains a passing DKIM signature of the same domain is accepted instead.
    dkim_aligned_domains: tuple[str, ...] = ()
    # The smoke test's senders (SmokeTestAddress, SmokeTestMailbox): the only senders whose
    # forms may name a test NHS number (999...); anyone else's is refused (shared.synthetic).
    smoke_test_senders: tuple[str, ...] = ()
    # A family's or young person's own email (outside the allowed domains, SPF, DKIM and DMARC
    # passing, clean, with forms): `verify` waits for a coordinator to verify it in the
    # console (shared.console.self_referrals); `quarantine` quarantines it as before.
    self_referrals: Literal["verify", "quarantine"] = "verify"
    # Age limits are inclusive whole years on the day the referral is processed:
    # 0..17 is Bromley's "under 18"; Kingston and Richmond would set minimum 14.
    minimum_age: int = Field(default=0, ge=0, le=25)
    maximum_age: int = Field(default=17, ge=0, le=25)
    review_interval_days_red: int = Field(default=14, ge=1, le=MAX_DAYS_SETTING)
    review_interval_days_amber: int = Field(default=28, ge=1, le=MAX_DAYS_SETTING)
    review_interval_days_green: int = Field(default=91, ge=1, le=MAX_DAYS_SETTING)
    review_interval_days_blue: int = Field(default=42, ge=1, le=MAX_DAYS_SETTING)
    pending_expiry_days: int = Field(default=28, ge=1, le=MAX_DAYS_SETTING)
    review_grace_days: int = Field(default=7, ge=1, le=MAX_DAYS_SETTING)  # a due review unrecorded this long is overdue
    first_review_days: int = Field(default=28, ge=1, le=MAX_DAYS_SETTING)  # a new case's first panel review, at most
    # A case rated Red, or whose review recommended one, needs a C(E)TR within this many days.
    ctr_due_days: int = Field(default=14, ge=1, le=MAX_DAYS_SETTING)
    transition_alert_months: int = Field(default=6, ge=1, le=24)  # notice before transition_age
    consent_reconfirmation_months: int = Field(default=12, ge=1, le=60)
    max_attachments: int = Field(default=10, ge=1)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # An outbox item the stream has not delivered within this many minutes is the sweeper's.
    outbox_sweep_after_minutes: int = Field(default=15, ge=5)
    # A closed case (or a lapsed pending one) is erased to its tombstone this many years after
    # the day it closed (shared.retention): six is Kent and Medway's rule.
    closed_case_retention_years: int = Field(default=6, ge=1, le=25)
    # Resource names, set by the template; unused by the pure core.
    table_name: str = "dsr-register"
    raw_mail_bucket: str = "dsr-raw-mail"
    schedule_group: str = "dsr-reviews"
    scheduler_role_arn: str = "arn:aws:iam::123456789012:role/dsr-scheduler"
    reminder_function_arn: str = "arn:aws:lambda:eu-west-2:123456789012:function:dsr-reminder"
    reminder_dlq_arn: str = "arn:aws:sqs:eu-west-2:123456789012:dsr-reminder-dlq"
    identity_key_id: str = "alias/dsr-identity"
    configuration_set: str = ""  # SES configuration set: TLS required, bounces reported
    # The way mail comes in and goes out: SES, or the Microsoft 365 / NHSmail shared mailbox
    # through Graph. The intake trusts only the inbound route's receiving server.
    inbound_route: Literal["ses", "graph"] = "ses"
    outbound_route: Literal["ses", "graph"] = "ses"
    graph_mailbox: str = ""  # the shared mailbox read and sent from (Graph routes)
    graph_secret_arn: str = ""  # tenant id, client id and client secret (Secrets Manager)
    graph_api_url: str = "https://graph.microsoft.com/v1.0"  # the local mailbox stands in
    graph_login_url: str = "https://login.microsoftonline.com"
    # The coordinators' console (#11), set by the template: its user pool and app client,
    # the tokens' issuer and keys, the CSRF key's secret, and the idle sign-out.
    console_user_pool_id: str = ""
    console_client_id: str = ""
    console_issuer: str = ""
    console_jwks_url: str = ""
    console_session_key_arn: str = ""
    console_idle_minutes: int = Field(default=15, ge=5, le=60)
    # Sign-in through the organisation's identity provider (NHSmail's Entra ID), set by the
    # template only when ConsoleFederationMetadataUrl is: the provider's name in the pool (the
    # button's words), the pool's Cognito domain and the console's callback. Empty: none.
    console_federation_name: str = ""
    console_federation_domain: str = ""
    console_federation_callback_url: str = ""

    @model_validator(mode="after")
    def _ages_in_order(self) -> Settings:
        if self.minimum_age > self.maximum_age:
            raise ValueError(
                f"MinimumAge ({self.minimum_age}) must not be more than MaximumAge "
                f"({self.maximum_age})"
            )
        return self

    @field_validator(*_LISTS, mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @property
    def console_federates(self) -> bool:
        return bool(
            self.console_federation_name
            and self.console_federation_domain
            and self.console_federation_callback_url
        )

    @property
    def transition_age(self) -> int:
        """The age a young person leaves the register: 18, or, for a register that runs past
        18 (`MaximumAge` 25, say), the birthday after the oldest eligible age."""
        return max(ADULT_REGISTER_AGE, self.maximum_age + 1)

    @property
    def receiving_authserv_id(self) -> str:
        """The authserv-id of the receiving server whose verdicts the intake trusts."""
        from shared.mail.authentication import MAILBOX_AUTHSERV_ID, SES_AUTHSERV_ID

        return MAILBOX_AUTHSERV_ID if self.inbound_route == "graph" else SES_AUTHSERV_ID

    def review_interval_days(self, rating: Rating) -> int:
        return {
            Rating.RED: self.review_interval_days_red,
            Rating.AMBER: self.review_interval_days_amber,
            Rating.GREEN: self.review_interval_days_green,
            Rating.BLUE: self.review_interval_days_blue,
        }[rating]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read `DSR_<FIELD>` variables, e.g. `DSR_MINIMUM_AGE=14`."""
        environ = os.environ if environ is None else environ
        values = {
            name: environ[f"DSR_{name.upper()}"]
            for name in cls.model_fields
            if f"DSR_{name.upper()}" in environ
        }
        return cls.model_validate(values)


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower() if "@" in address else ""


def domain_matches(address: str, patterns: tuple[str, ...]) -> bool:
    """Whether an address's domain is one of `patterns` (`*.x` means any subdomain of x)."""
    domain = domain_of(address)
    if not domain:
        return False
    for pattern in patterns:
        if pattern.startswith("*."):
            if domain.endswith(pattern[1:]):
                return True
        elif domain == pattern:
            return True
    return False
