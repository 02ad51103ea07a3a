"""The personal data in the sample emails, in every way it could be written down."""

from __future__ import annotations

from datetime import date

from infrastructure.samples import child, consent_fields, referral_fields


def forms_of(value: str) -> set[str]:
    forms = {value}
    digits = value.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) == 10:
        forms |= {
            digits,
            f"{digits[:3]} {digits[3:6]} {digits[6:]}",
            f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
        }
    for separator in ("/", "-"):
        parts = value.split(separator)
        if len(parts) == 3 and all(part.isdigit() for part in parts):
            day, month, year = (
                (int(p) for p in parts)
                if len(parts[0]) <= 2
                else (int(parts[2]), int(parts[1]), int(parts[0]))
            )
            born = date(year, month, day)
            forms |= {
                born.isoformat(),
                born.strftime("%d/%m/%Y"),
                born.strftime("%d-%m-%Y"),
                born.strftime("%Y%m%d"),
            }
    return forms


def sample_personal_data() -> set[str]:
    identities = [
        child(seed, age=age)
        for seed, age in (
            (1, 14),
            (2, 16),
            (3, 14),
            (4, 19),
            (5, 13),
            (7, 15),
            (8, 12),
            (11, 10),
            (12, 11),
        )
    ]
    values: set[str] = set()
    for identity in [*identities, referral_fields(), consent_fields()]:
        for field in (
            "child_given_name",
            "child_family_name",
            "child_date_of_birth",
            "child_nhs_number",
        ):
            values |= forms_of(identity[field])
    values |= {"Okafor-Lewis", "Grace Okafor", "12 Example Road", "BR1 3AA", "Escalating self-harm"}
    return {value for value in values if len(value) >= 4}


def leaks(text: str) -> set[str]:
    return {value for value in sample_personal_data() if value.lower() in text.lower()}
