"""Email as it arrives: the raw MIME read strictly (`message`), its sender (`addresses`),
SES's verdicts (`authentication`), forwarded mail (`forwarding`) and trust (`trust`)."""

from shared.mail.authentication import MailVerdicts
from shared.mail.inbound import Attachment, InboundMail, valid_text
from shared.mail.message import parse_mail
from shared.mail.trust import is_authenticated, is_team_sender, trust_reasons

__all__ = [
    "Attachment",
    "InboundMail",
    "MailVerdicts",
    "is_authenticated",
    "is_team_sender",
    "parse_mail",
    "trust_reasons",
    "valid_text",
]
