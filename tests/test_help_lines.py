"""Help lines are numbers a person in danger can call, or https links (issue 14): a typo or a
`javascript:` link never reaches her. Numbers are checked with Google's libphonenumber for the
programme's country, short numbers (112, 1888) included."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.core import Core
from bot.programmes import Programme
from bot.programmes.programme import is_help_line_number
from bot.settings import PROJECT_ROOT
from tests.dashboard import Client, as_admin, csrf_of
from tests.test_dashboard_programmes import form_of


@pytest.mark.parametrize(
    ("number", "country", "valid"),
    [
        ("112", "DK", True),  # emergency
        ("1888", "DK", True),  # Lev Uden Vold, a short number
        ("70 201 201", "DK", True),  # Livslinien
        ("+45 70 201 201", "DK", True),
        ("+46 8 123 456 78", "DK", True),  # a full number of another country
        ("https://www.livslinien.dk/chat", "DK", True),
        ("112", "SE", True),
        ("12", "DK", False),
        ("70 201 20", "DK", False),  # a digit short
        ("javascript:alert(1)", "DK", False),
        ("http://example.org", "DK", False),  # not https
        ("https://", "DK", False),
        ("https://exa mple.org", "DK", False),
        ("", "DK", False),
    ],
)
def test_a_help_line_is_a_callable_number_or_an_https_link(
    number: str, country: str, valid: bool
) -> None:
    assert is_help_line_number(number, country) is valid


def definition(**changes: Any) -> dict[str, Any]:
    shipped = yaml.safe_load((PROJECT_ROOT / "programmes" / "bridge.yaml").read_text("utf-8"))
    return {**shipped, **changes}


def test_a_programme_file_with_a_wrong_number_or_country_is_refused() -> None:
    Programme.model_validate(definition())  # as shipped
    with pytest.raises(ValueError, match="neither a phone number of DK nor an https link"):
        Programme.model_validate(
            definition(help_lines=[{"label": "Police", "number": "javascript:alert(1)"}])
        )
    with pytest.raises(ValueError, match="unknown country 'XX'"):
        Programme.model_validate(definition(country="XX"))


async def test_the_dashboard_says_what_a_help_line_must_be(core: Core, client: Client) -> None:
    await as_admin(core, client)
    page = await client.get("/admin/programmes/bridge")
    before = core.programmes["bridge"]
    refused = await client.post(
        "/admin/programmes/bridge",
        data={"csrf": csrf_of(page), **form_of(core, help_number_1="javascript:alert(1)")},
    )
    assert refused.status_code == 422
    assert "A help line needs a phone number people can call here" in refused.text
    assert core.programmes["bridge"] is before
