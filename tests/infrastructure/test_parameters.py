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
        ({"ClosedCaseRetentionYears": "0"}, "ClosedCaseRetentionYears must be at least 1"),
        ({"ClosedCaseRetentionYears": "26"}, "ClosedCaseRetentionYears must be at most 25"),
        ({"RawMailRetentionDays": "366"}, "RawMailRetentionDays must be at most 365"),
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


def test_the_closed_case_retention_parameter_is_the_settings_field() -> None:
    from shared.settings import Settings

    parameter = load_template()["Parameters"]["ClosedCaseRetentionYears"]
    field = Settings.model_fields["closed_case_retention_years"]
    bounds = {type(rule).__name__: rule for rule in field.metadata}
    assert parameter["Default"] == field.default == 6
    assert parameter["MinValue"] == bounds["Ge"].ge and parameter["MaxValue"] == bounds["Le"].le
