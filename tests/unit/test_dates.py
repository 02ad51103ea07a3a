from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.dates import DateFormatError, age_on, parse_uk_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/04/2012", date(2012, 4, 3)),
        ("3/4/2012", date(2012, 4, 3)),
        ("03-04-2012", date(2012, 4, 3)),
        ("2012-04-03", date(2012, 4, 3)),
        ("3 April 2012", date(2012, 4, 3)),
        ("3rd April 2012", date(2012, 4, 3)),
        ("3 Apr 2012", date(2012, 4, 3)),
        (" 13/12/2010 ", date(2010, 12, 13)),
        ("29/02/2012", date(2012, 2, 29)),
    ],
)
def test_uk_dates_are_day_first(text: str, expected: date) -> None:
    assert parse_uk_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "12/13/2010", "31/04/2012", "29/02/2013", "April 3 2012", "3/4/12", "tomorrow"]
)
def test_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_uk_date(text)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_every_written_form_reads_back(day: date) -> None:
    for text in (
        day.strftime("%d/%m/%Y"),
        f"{day.day}/{day.month}/{day.year}",
        day.strftime("%d-%m-%Y"),
        day.isoformat(),
        f"{day.day} {day.strftime('%B')} {day.year}",
    ):
        assert parse_uk_date(text) == day


def test_age_on() -> None:
    born = date(2010, 6, 15)
    assert age_on(born, date(2028, 6, 14)) == 17
    assert age_on(born, date(2028, 6, 15)) == 18
    assert age_on(date(2012, 2, 29), date(2028, 2, 28)) == 15
    assert age_on(date(2012, 2, 29), date(2028, 3, 1)) == 16
