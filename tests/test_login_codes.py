"""An admin's reset of a colleague's log-in gives a one-time code, never a password chosen for
someone else (issue 14): the whole way through the dashboard's pages, and each way a code is
refused (expired, used, replaced, with another e-mail). The code is stored only as a hash and
goes into no URL and no log line."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text

from bot.coordination import CODE_VALID, invite_coordinator, issue_login_code
from bot.coordination.accounts import set_login
from bot.coordination.login_codes import CODE_ALPHABET, code_hash, new_code
from bot.core import Core
from dashboard.app import create_app
from storage.models import AuditEntry, Base, Coordinator
from tests.course import FakeClock
from tests.dashboard import (
    PASSWORD,
    Client,
    as_admin,
    csrf_of,
    log_in,
    login_code_on,
    set_own_password,
)

HER_OWN = "a passphrase of her own"
REFUSED = "do not go together"


async def with_tom(core: Core) -> int:
    """Tom works in bridge and has a log-in (his old password is PASSWORD)."""
    async with core.sessions() as session:
        tom, _ = await invite_coordinator(session, "bridge", "Tom")
        await set_login(session, tom, "tom@example.org", PASSWORD)
        await session.commit()
        return tom.id


async def reset(client: Client, tom: int, email: str = "tom@example.org") -> httpx.Response:
    """Sara (an admin of bridge, logged in on `client`) resets Tom's log-in."""
    page = await client.get("/admin/coordinators")
    return await client.post(
        f"/admin/coordinators/{tom}/login", data={"csrf": csrf_of(page), "email": email}
    )


async def test_an_admin_resets_a_log_in_and_the_colleague_chooses_the_password(
    core: Core, client: Client
) -> None:
    await as_admin(core, client)
    tom = await with_tom(core)
    async with Client(
        transport=httpx.ASGITransport(app=create_app(core)), base_url="http://dashboard"
    ) as toms_laptop:
        assert (await log_in(toms_laptop, "tom")).status_code == 303
        answer = await reset(client, tom, "Tom.New@Example.org")
        assert answer.status_code == 200  # the code is in this answer's page, not in a redirect
        code = login_code_on(answer)
        assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
        assert (
            "24 hours" in answer.text and "/login/set-password" in (await client.get("/login")).text
        )
        # Until he uses it, his old password and his open session still work.
        assert (await toms_laptop.get("/flags")).status_code == 200

        async with Client(
            transport=httpx.ASGITransport(app=create_app(core)), base_url="http://dashboard"
        ) as phone:
            done = await set_own_password(phone, "tom.new@example.org", code.lower(), HER_OWN)
            assert done.status_code == 200 and "Your password is set" in done.text
        # Using the code ended his other sessions.
        assert (await toms_laptop.get("/flags")).status_code == 303
    client.cookies.clear()
    assert (await log_in(client, "tom", PASSWORD)).status_code == 401
    login = await client.post(
        "/login",
        data={"csrf": csrf_of(await client.get("/login")), "email": "tom.new@example.org",
              "password": HER_OWN},
    )  # fmt: skip
    assert login.status_code == 303
    async with core.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        sara = await session.scalar(select(Coordinator.id).where(Coordinator.name == "Sara"))
    issued = next(e for e in entries if e.action == "issue_login_code")
    used = next(e for e in entries if e.action == "use_login_code")
    assert (issued.coordinator_id, issued.account_id, issued.programme_id) == (sara, tom, None)
    assert (used.coordinator_id, used.account_id) == (tom, tom)
    assert all(code not in (e.detail or "") for e in entries)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("as given", 200),
        ("expired", 422),
        ("used", 422),
        ("replaced", 422),
        ("another's e-mail", 422),
        ("unknown e-mail", 422),
        ("typo", 422),
    ],
)
async def test_a_code_works_once_within_a_day_for_its_own_account_and_only_the_newest(
    core: Core, client: Client, clock: FakeClock, case: str, expected: int
) -> None:
    await as_admin(core, client)
    tom = await with_tom(core)
    code = login_code_on(await reset(client, tom))
    email = "tom@example.org"
    if case == "expired":
        clock.advance(seconds=CODE_VALID.total_seconds() + 1)
    elif case == "used":
        assert (await set_own_password(client, email, code, "a first one of his own")).is_success
    elif case == "replaced":
        newer = login_code_on(await reset(client, tom))
        assert newer != code
    elif case == "another's e-mail":
        email = "sara@example.org"  # Sara's account has no code; this one is Tom's
    elif case == "unknown e-mail":
        email = "nobody@example.org"
    elif case == "typo":
        code = code[:-1] + ("A" if code[-1] != "A" else "B")
    answer = await set_own_password(client, email, code, HER_OWN)
    assert answer.status_code == expected
    if expected == 422:
        assert REFUSED in answer.text  # one answer for every refusal
    client.cookies.clear()
    logged_in = (await log_in(client, "tom", HER_OWN)).status_code == 303
    assert logged_in is (expected == 200)


async def test_a_weak_password_keeps_the_code_for_another_try(core: Core, client: Client) -> None:
    await as_admin(core, client)
    tom = await with_tom(core)
    code = login_code_on(await reset(client, tom))
    for password, again, complaint in (
        ("password1234", None, "too easy to guess"),
        ("tom@example.org", None, "too easy to guess"),
        ("short", None, "at least 12 characters"),
        (HER_OWN, "a passphrase of hers", "not the same"),
    ):
        answer = await set_own_password(client, "tom@example.org", code, password, again)
        assert answer.status_code == 422 and complaint in answer.text
    assert (await set_own_password(client, "tom@example.org", code, HER_OWN)).is_success


async def test_the_code_is_stored_only_as_a_hash_and_in_no_url_or_log(
    core: Core, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await as_admin(core, client)
    tom = await with_tom(core)
    answer = await reset(client, tom)
    code = login_code_on(answer)
    typed = code.replace("-", "")
    # No link or form address on the page carries it.
    assert all(code not in url and typed not in url for url in re.findall(
        r'(?:href|action)="([^"]*)"', answer.text))  # fmt: skip

    async def every_stored_value() -> str:
        async with core.sessions() as session:
            values = []
            for table in Base.metadata.sorted_tables:
                rows = await session.execute(text(f"SELECT * FROM {table.name}"))
                values += [str(value) for row in rows for value in row]
            return "\n".join(values)

    stored = await every_stored_value()
    assert code_hash(code) in stored
    assert code not in stored and typed not in stored
    assert (await set_own_password(client, "tom@example.org", code, HER_OWN)).is_success
    stored = await every_stored_value()
    assert code not in stored and typed not in stored and HER_OWN not in stored
    assert code_hash(code) not in stored  # used: nothing of it is left
    assert code not in caplog.text and typed not in caplog.text


def test_a_code_is_sixteen_unambiguous_characters_in_groups_of_four() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(group) for group in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(CODE_ALPHABET)
    assert not set("01ILO") & set(CODE_ALPHABET)  # nothing to mistake for another
    assert len(CODE_ALPHABET) ** 16 > 2**78  # far beyond guessing
    assert code_hash("abcd-efgh 2345 6789") == code_hash("ABCDEFGH23456789")


async def test_no_dashboard_route_sets_a_password_an_admin_chose(
    core: Core, client: Client
) -> None:
    """Every form the dashboard takes, posted by an admin (and by a site owner) with a password
    for a colleague in every field a password could be in: afterwards nobody can log in with
    it. Only the person's own forms (their current password, or a code) set a password."""
    ids = await as_admin(core, client)
    tom = await with_tom(core)
    async with core.sessions() as session:
        sara = await session.get(Coordinator, ids["Sara"])
        assert sara is not None
        sara.site_owner = True
        await session.commit()
    chosen = "an admin chose this one"
    fields = {
        "email": "tom@example.org", "password": chosen, "new_password": chosen,
        "new_password_again": chosen, "password_again": chosen, "name": "Newcomer",
        "programme": "1", "role": "coordinator", "language": "en", "code": "bridge",
    }  # fmt: skip
    values = {
        "coordinator_id": tom,
        "flag_id": ids["mine"],
        "match_id": 1,
        "code": "bridge",
        "participant_id": 1,
    }
    paths = create_app(core).openapi()["paths"]
    posted = sorted(path for path, methods in paths.items() if "post" in methods)
    assert "/admin/coordinators/{coordinator_id}/login" in posted and len(posted) >= 10
    for number, (path, email) in enumerate(
        (path, email) for path in posted for email in ("tom@example.org", "fresh@example.org")
    ):
        if path == "/logout":
            continue
        client.cookies.clear()
        await log_in(client)
        filled = re.sub(r"\{(\w+)\}", lambda found: str(values[found.group(1)]), path)
        # The forms before a log-in carry their own page's token, the others the session's.
        csrf = csrf_of(await client.get(filled if filled.startswith("/login") else "/settings"))
        form = {**fields, "csrf": csrf, "email": email.replace("fresh", f"fresh{number}")}
        answer = await client.post(filled, data=form)
        assert answer.status_code < 500, filled
    async with core.sessions() as session:
        emails = list(await session.scalars(select(Coordinator.email)))
    client.cookies.clear()
    for email in emails:
        if email:
            login = await client.post(
                "/login",
                data={"csrf": csrf_of(await client.get("/login")), "email": email,
                      "password": chosen},
            )  # fmt: skip
            assert login.status_code != 303, email


async def test_the_code_is_valid_for_a_day(core: Core) -> None:
    async with core.sessions() as session:
        tom, _ = await invite_coordinator(session, "bridge", "Tom")
        await issue_login_code(session, tom, "tom@example.org", issued_by=None)
        assert tom.login_code_expires_at == core.clock.now() + timedelta(hours=24)
