"""Every answer of the dashboard carries the security headers (issue 14): each route of the app,
found from the app itself so that a new page cannot be forgotten, as an admin who may see it,
and the answers that are not pages (log-in, errors, downloads, refusals, the style sheet). A
form posted from another site is refused before any page runs."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.core import Core
from dashboard.app import create_app
from tests.dashboard import Client, as_admin, csrf_of, log_in, seed

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def assert_secured(response: httpx.Response) -> None:
    headers = response.headers
    assert {name: headers.get(name) for name in EXPECTED} == EXPECTED, response.url
    policy = dict(
        part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"  # so no script of any kind, inline or not
    assert "script-src" not in policy
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"


def get_routes(core: Core) -> list[str]:
    """Every GET route of the app, from the schema FastAPI builds of all its routers."""
    paths = create_app(core).openapi()["paths"]
    return sorted(path for path, methods in paths.items() if "get" in methods)


async def test_every_page_and_download_carries_the_security_headers(
    core: Core, client: Client
) -> None:
    ids = await as_admin(core, client)
    values = {"flag_id": ids["mine"], "participant_id": ids["amina"], "kind": "csv"}
    values["code"] = "bridge"
    paths = get_routes(core)
    assert len(paths) >= 18  # the app's pages were found
    for path in paths:
        filled = re.sub(r"\{(\w+)\}", lambda found: str(values[found.group(1)]), path)
        response = await client.get(filled)
        assert response.status_code < 500, filled
        assert_secured(response)
    csv = await client.get("/participants/export.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert_secured(csv)


async def test_answers_that_are_not_pages_carry_them_too(core: Core, client: Client) -> None:
    await seed(core)
    for response in (
        await client.get("/flags"),  # to the log-in
        await client.get("/login"),
        await client.get("/no/such/page"),
        await client.get("/static/style.css"),
        await client.post("/login", data={"csrf": "forged"}),
        await log_in(client, password="wrong password!"),
    ):
        assert_secured(response)


FOREIGN = ["https://evil.example", "http://dashboard.evil.example", "null"]


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_form_posted_from_another_site_is_refused_before_any_page_runs(
    core: Core, client: Client, origin: str
) -> None:
    await seed(core)
    page = await client.get("/login")
    form = {"csrf": csrf_of(page), "email": "Sara@example.org", "password": "correct horse battery"}
    refused = await client.post("/login", data=form, headers={"Origin": origin})
    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers  # not logged in
    assert_secured(refused)
    # The same form from the site itself logs in.
    welcome = await client.post("/login", data=form, headers={"Origin": "http://dashboard"})
    assert welcome.status_code == 303
