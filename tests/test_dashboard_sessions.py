"""How long a dashboard log-in lasts, and how it ends (issue 14): after 30 idle minutes, 12 hours
after the log-in however busy, on log-out everywhere at once, and on a password change
everywhere else. Time is the core's clock, moved by the test."""

from __future__ import annotations

import httpx

from bot.core import Core
from dashboard.app import create_app
from tests.course import FakeClock
from tests.dashboard import PASSWORD, Client, csrf_of, log_in, seed

NEW_PASSWORD = "violet anchor of tuesday"


def signed_in(response: httpx.Response) -> bool:
    return response.status_code == 200


async def second_browser(core: Core) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(core))
    return httpx.AsyncClient(transport=transport, base_url="http://dashboard")


async def test_a_log_in_ends_after_30_idle_minutes_and_each_request_starts_them_again(
    core: Core, client: Client, clock: FakeClock
) -> None:
    await seed(core)
    await log_in(client)
    for _ in range(4):  # two hours of work, a page every 29 minutes
        clock.advance(minutes=29)
        assert signed_in(await client.get("/flags"))
    clock.advance(minutes=30, seconds=1)
    gone = await client.get("/flags")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_a_log_in_ends_12_hours_after_it_began_however_busy(
    core: Core, client: Client, clock: FakeClock
) -> None:
    await seed(core)
    await log_in(client)
    for _ in range(12 * 3 - 1):  # a page every 20 minutes, up to 11 h 40 min
        clock.advance(minutes=20)
        assert signed_in(await client.get("/flags"))
    clock.advance(minutes=20)
    assert (await client.get("/flags")).status_code == 303


async def test_log_out_ends_the_sessions_on_every_computer(core: Core, client: Client) -> None:
    await seed(core)
    async with await second_browser(core) as other:
        await log_in(client)
        await log_in(other)
        assert signed_in(await other.get("/flags"))
        page = await client.get("/flags")
        await client.post("/logout", data={"csrf": csrf_of(page)})
        assert (await other.get("/flags")).status_code == 303


async def change(
    client: Client, current: str, new: str, again: str | None = None
) -> httpx.Response:
    page = await client.get("/settings")
    return await client.post(
        "/settings/password",
        data={
            "csrf": csrf_of(page),
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
    )


async def test_a_coordinator_changes_her_own_password_and_is_logged_out_elsewhere(
    core: Core, client: Client
) -> None:
    await seed(core)
    async with await second_browser(core) as other:
        await log_in(client)
        await log_in(other)
        refusals = {
            "wrong current": await change(client, "not my password", NEW_PASSWORD),
            "typo": await change(client, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"),
            "guessable": await change(client, PASSWORD, "password1234"),
        }
        assert {name: page.status_code for name, page in refusals.items()} == {
            name: 422 for name in refusals
        }
        assert "The current password is not right." in refusals["wrong current"].text
        assert "The two new passwords are not the same." in refusals["typo"].text
        assert "too easy to guess" in refusals["guessable"].text
        assert signed_in(await other.get("/flags"))  # nothing changed yet

        changed = await change(client, PASSWORD, NEW_PASSWORD)
        assert changed.status_code == 200 and "You are logged out everywhere else." in changed.text
        assert signed_in(await client.get("/flags"))  # this browser goes on
        assert (await other.get("/flags")).status_code == 303  # the other one is out
    client.cookies.clear()
    assert (await log_in(client)).status_code == 401  # the old password
    assert (await log_in(client, password=NEW_PASSWORD)).status_code == 303
