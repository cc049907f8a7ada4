"""The dashboard's log-in as a browser meets it (issue 14): throttling by the client's address
(the ASGI client, or what a trusted proxy says), the wait in plain words and the reader's
language, the session cookie's attributes for each DASHBOARD_SECURE_COOKIE mode, and a log-in
that ended: the log-in page says so and then goes back where the person was going."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.core import Core, build_core
from bot.settings import Settings
from dashboard.app import create_app
from tests.course import FakeClock
from tests.dashboard import PASSWORD, csrf_of, log_in, seed

X, Y = "198.51.100.7", "203.0.113.9"  # a stranger's address, Sara's
PROXY = "10.0.0.1"
WRONG = "wrong password"
WAIT_A_MINUTE = "Too many failed log-ins. Wait 1 minute, then try again."


@contextlib.asynccontextmanager
async def browser(
    settings: Settings,
    clock: FakeClock,
    address: str = "127.0.0.1",
    base_url: str = "http://localhost:8080",
    **changed: object,
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser at `address` on a dashboard with these settings changed (its own core, on the
    test's database and clock)."""
    core = await build_core(settings.model_copy(update=changed), clock)
    try:
        transport = httpx.ASGITransport(app=create_app(core), client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as web:
            yield web
    finally:
        await core.close()


async def log_in_to(
    web: httpx.AsyncClient, password: str = PASSWORD, headers: dict[str, str] | None = None
) -> httpx.Response:
    page = await web.get("/login", headers=headers)
    # Sent by hand: a client does not send back a Secure cookie over plain HTTP, and some
    # cases below make one on purpose (the proxy said HTTPS, or DASHBOARD_SECURE_COOKIE=always).
    (form_cookie,) = [c for c in page.headers.get_list("set-cookie") if "login_csrf=" in c]
    return await web.post(
        "/login",
        data={"csrf": csrf_of(page), "email": "sara@example.org", "password": password},
        headers={**(headers or {}), "Cookie": form_cookie.split(";")[0]},
    )


async def test_failures_from_one_address_make_only_that_address_wait(
    core: Core, settings: Settings, clock: FakeClock
) -> None:
    await seed(core)
    async with browser(settings, clock, X) as stranger, browser(settings, clock, Y) as sara:
        refusals = [await log_in_to(stranger, WRONG) for _ in range(5)]
        assert [page.status_code for page in refusals] == [401] * 5
        assert "The e-mail or the password is wrong." in refusals[0].text
        assert "Too many" not in refusals[3].text
        assert WAIT_A_MINUTE in refusals[4].text  # said with the failure that starts the wait
        held = await log_in_to(stranger)  # the right password, during the wait
        assert held.status_code == 429 and held.headers["retry-after"] == "30"
        assert WAIT_A_MINUTE in held.text and "wrong" not in held.text
        assert (await log_in_to(sara)).headers["location"] == "/flags"  # at once
        clock.advance(seconds=29)
        assert (await log_in_to(stranger)).headers["retry-after"] == "1"
        clock.advance(seconds=1)
        assert (await log_in_to(stranger)).headers["location"] == "/flags"  # the wait ran out


@pytest.mark.parametrize(
    ("language", "wait"),
    [
        ("en", "Wait 15 minutes, then try again."),
        ("da", "Vent 15 minutter, og prøv så igen."),
        ("fi", "Odota 15 minuuttia ja yritä sitten uudelleen."),
        ("nb", "Vent 15 minutter, og prøv så igjen."),
        ("sv", "Vänta 15 minuter och försök sedan igen."),
    ],
)
async def test_the_wait_is_said_in_the_pages_language(
    core: Core, settings: Settings, clock: FakeClock, language: str, wait: str
) -> None:
    await seed(core)
    async with browser(settings, clock, X, default_language=language) as web:
        for _ in range(10):  # five free, then 30 s, 1, 2, 4, 8 minutes: the next waits 15
            page = await log_in_to(web, WRONG)
            clock.advance(seconds=int(page.headers.get("retry-after", "0")))
        assert wait in page.text


@pytest.mark.parametrize(
    ("trusted", "connecting", "forwarded_for", "then_from", "expected"),
    [
        # No proxy trusted: the address is whoever connects; a forged header changes nothing.
        ("", X, ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"], X, 429),
        # The trusted proxy names the clients: the stranger waits, Sara does not.
        (PROXY, PROXY, [X] * 5, X, 429),
        (PROXY, PROXY, [X] * 5, Y, 303),
        ("10.0.0.0/24", PROXY, [X] * 5, Y, 303),
        # The proxy's own failures (no header) count for the proxy.
        (PROXY, PROXY, [""] * 5, Y, 303),
        # A client that is not the trusted proxy cannot name someone else.
        (
            PROXY,
            "10.0.0.2",
            ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"],
            "192.0.2.6",
            429,
        ),
    ],
)
async def test_the_client_address_is_what_a_trusted_proxy_says(
    core: Core,
    settings: Settings,
    clock: FakeClock,
    trusted: str,
    connecting: str,
    forwarded_for: list[str],
    then_from: str,
    expected: int,
) -> None:
    await seed(core)
    async with browser(settings, clock, connecting, dashboard_trusted_proxies=trusted) as web:
        for client in forwarded_for:
            headers = {"X-Forwarded-For": client} if client else {}
            await log_in_to(web, WRONG, headers)
        last = await log_in_to(web, headers={"X-Forwarded-For": then_from})
        assert last.status_code == expected


HTTPS_PROXY = {"X-Forwarded-Proto": "https"}
PLAIN = ("mentorbot_session", False)
HOST_PREFIXED = ("__Host-mentorbot_session", True)


@pytest.mark.parametrize(
    ("mode", "base_url", "trusted", "headers", "expected"),
    [
        ("auto", "http://localhost:8080", "", {}, PLAIN),  # the demo, without HTTPS
        ("auto", "http://127.0.0.1:8080", "", {}, PLAIN),
        ("auto", "https://dashboard.example.org", "", {}, HOST_PREFIXED),
        ("auto", "http://dashboard.example.org", "127.0.0.1", HTTPS_PROXY, HOST_PREFIXED),
        ("auto", "http://dashboard.example.org", "", HTTPS_PROXY, PLAIN),  # not a trusted proxy
        ("always", "http://localhost:8080", "", {}, HOST_PREFIXED),
        ("never", "https://dashboard.example.org", "", {}, PLAIN),
    ],
)
async def test_the_session_cookie_for_each_mode(
    core: Core,
    settings: Settings,
    clock: FakeClock,
    mode: str,
    base_url: str,
    trusted: str,
    headers: dict[str, str],
    expected: tuple[str, bool],
) -> None:
    await seed(core)
    async with browser(
        settings, clock, "127.0.0.1", base_url,
        dashboard_secure_cookie=mode, dashboard_trusted_proxies=trusted,
    ) as web:  # fmt: skip
        response = await log_in_to(web, headers=headers)
        assert response.status_code == 303
        (cookie,) = [c for c in response.headers.get_list("set-cookie") if "_session=" in c]
        name, secure = expected
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert cookie.startswith(f"{name}=")
        assert {"httponly", "path", "samesite"} <= attributes and "domain" not in attributes
        assert "Path=/;" in cookie + ";" and "SameSite=lax" in cookie
        assert ("secure" in attributes) is secure
        if not secure or base_url.startswith("https"):  # a browser sends it back: signed in
            assert (await web.get("/flags", headers=headers)).status_code == 200
            page = await web.get("/flags", headers=headers)
            out = await web.post("/logout", data={"csrf": csrf_of(page)}, headers=headers)
            (gone,) = [c for c in out.headers.get_list("set-cookie") if "_session=" in c]
            assert gone.startswith(f"{name}=") and "Max-Age=0" in gone
            assert ("Secure" in gone) is secure  # a __Host- cookie is only replaced so


async def test_by_default_a_proxy_on_this_machine_that_says_https_gets_a_secure_cookie(
    core: Core, settings: Settings, clock: FakeClock
) -> None:
    """The issue's "on by default behind a proxy that says HTTPS": no setting needed."""
    await seed(core)
    async with browser(settings, clock, "127.0.0.1", "http://dashboard.example.org") as web:
        response = await log_in_to(web, headers=HTTPS_PROXY)
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if "_session=" in c]
    assert cookie.startswith("__Host-mentorbot_session=") and "Secure" in cookie


async def test_a_log_in_that_ended_says_so_and_goes_back_where_the_person_was(
    core: Core, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await seed(core)
    first_visit = await client.get("/matches")  # never logged in: nothing ended
    assert first_visit.headers["location"] == "/login?next=/matches"
    await log_in(client)
    clock.advance(minutes=31)
    ended = await client.get("/matches")
    assert ended.headers["location"] == "/login?next=/matches&ended=1"
    stale = next(c for c in ended.headers.get_list("set-cookie") if "_session=" in c)
    assert "Max-Age=0" in stale  # the old cookie goes
    page = await client.get(ended.headers["location"])
    assert "Your log-in has ended. Log in again to go on where you were." in page.text
    back = await client.post(
        "/login",
        data={
            "csrf": csrf_of(page), "email": "sara@example.org", "password": PASSWORD,
            "next": "/matches",
        },
    )  # fmt: skip
    assert back.headers["location"] == "/matches"
    assert (await client.get("/matches")).status_code == 200


async def test_a_form_sent_after_the_log_in_ended_goes_back_to_its_page(
    core: Core, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    ids = await seed(core)
    await log_in(client)
    flag = f"/flags/{ids['mine']}"
    csrf = csrf_of(await client.get(flag))
    clock.advance(minutes=31)
    sent = await client.post(
        f"{flag}/assign", data={"csrf": csrf}, headers={"Referer": f"http://dashboard{flag}"}
    )
    assert sent.headers["location"] == f"/login?next={flag}&ended=1"
    foreign = await client.post(
        f"{flag}/assign", data={"csrf": csrf}, headers={"Referer": "http://elsewhere.example/x"}
    )
    assert foreign.headers["location"] == "/login?next=/flags"
