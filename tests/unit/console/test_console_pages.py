"""The console's pages escape every value: a child whose name is a script renders inert (the
forms refuse such a name, so it is rendered here directly from a register row)."""

from __future__ import annotations

from datetime import date

import jinja2
import pytest

from functions.console.web import TEMPLATES
from shared.case import CaseStatus, StaffRole
from shared.console.register_view import RegisterFilter, RegisterRow
from shared.console.session import Identity
from shared.rating import Rating

HOSTILE = '<script>alert(1)</script>" onmouseover="x'


def _identity() -> Identity:
    return Identity("sub-1", HOSTILE, frozenset({StaffRole.COORDINATOR}), 2_000_000_000, 1)


def test_a_child_named_script_renders_inert() -> None:
    row = RegisterRow(
        case_id="DSR-7K3F9QAB",
        name=HOSTILE,
        age=12,
        status=CaseStatus.ACTIVE,
        rating=Rating.RED,
        next_review_on=date(2026, 12, 1),
        overdue=True,
        keyworker_not_referred=False,
        leaves_on=None,
    )
    page = TEMPLATES.get_template("register.html").render(
        identity=_identity(),
        rows=[row],
        chosen=RegisterFilter.ALL,
        filters=list(RegisterFilter),
        query=HOSTILE,
        searched=True,
        csrf="token",
        area="Bromley",
        signed_in_as=HOSTILE,  # the header's name for the person (their address)
    )
    assert "<script>" not in page and 'onmouseover="x' not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=&#34;x") == 3
    # The rating is a coloured tag with its name as text, never colour alone.
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Red</strong>' in page


def test_a_name_a_page_was_not_given_is_an_error_not_blank() -> None:
    with pytest.raises(jinja2.UndefinedError):
        TEMPLATES.get_template("sign_in.html").render(csrf="token", area="Bromley")
