import pytest

from infrastructure.local_stack import LocalStackError, check_parameters, load_template


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"Nope": "1"}, "no parameter Nope"),
        ({"MinimumAge": "abc"}, "MinimumAge must be a number"),
        ({"MaximumAge": "30"}, "MaximumAge must be at most 25"),
        ({"ReviewIntervalDaysRed": "0"}, "ReviewIntervalDaysRed must be at least 1"),
        ({"StageName": "Prod"}, "StageName does not match"),
        ({"InboxAddress": "not an address"}, "InboxAddress does not match"),
        ({"LogRetentionDays": "5"}, "LogRetentionDays must be one of"),
    ],
)
def test_parameters_are_checked_as_cloudformation_would(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(LocalStackError, match=message):
        check_parameters(values, load_template()["Parameters"])


def test_good_parameters_pass() -> None:
    check_parameters(
        {
            "MinimumAge": "14",
            "StageName": "kingston",
            "InboxAddress": "k.dsr@nhs.net",
            "LogRetentionDays": "30",
        },
        load_template()["Parameters"],
    )
