"""One error type per failure family. Messages carry ids and codes, never personal data."""

from shared.outcome import Reason


class DsrIntakeError(Exception):
    """Base of every error the intake raises on purpose."""


class ConcurrentChangeError(DsrIntakeError):
    """The register changed under us (another email for the same child was stored first).

    Raised so the queue delivers the email again: the retry decides on the fresh state.
    """


class DeliveryError(DsrIntakeError):
    """An effect (email, schedule) could not be delivered; the stream retries it."""


class AlreadyRecordedError(DsrIntakeError):
    """This SES message id already has its outcome: the queue delivered it again."""


class MailNotSentError(DeliveryError):
    """The mail service answered that it did not send the email (refused, throttled): safe to
    try again. Any other failure of a send leaves its outcome unknown."""


class RawMailMissingError(DsrIntakeError):
    """The raw email is no longer in the mail bucket (expired, or erased)."""


class ErasureIncompleteError(DeliveryError):
    """Some of a withdrawn case's stored objects could not be deleted: the erasure stays in
    the outbox and is tried again."""


class ActionRefusedError(DsrIntakeError):
    """A console action that may not be done: the user's role may not, the case or email is
    not in a state for it, or the fields typed break the forms' rules. `reasons` say why, for
    the page (like an email's reasons, they never repeat a value); the message is a code."""

    def __init__(self, code: str, reasons: list[Reason]) -> None:
        super().__init__(code)
        self.code = code
        self.reasons = reasons


class ConsoleSignInError(DsrIntakeError):
    """Cognito refused a step of the console's sign-in (a wrong password or code, a challenge
    that expired). `message` is for the person signing in and names nothing of theirs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class NotSignedInError(DsrIntakeError):
    """A console request without a valid access token (none, expired, forged, another
    pool's or client's): the person is sent to sign in. The message is the check that failed."""
