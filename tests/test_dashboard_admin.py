"""Admins: the audit log of their programmes, and adding coordinators; others are refused."""

from __future__ import annotations

import httpx
from sqlalchemy import select

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator
from bot.core import Core
from dashboard.app import create_app
from storage.models import AuditEntry, Coordinator, CoordinatorRole, Programme
from tests.dashboard import (
    PASSWORD,
    Client,
    as_admin,
    csrf_of,
    log_in,
    login_code_on,
    make_admin,
    programme_id,
    seed,
    set_own_password,
)


async def test_only_admins_see_the_audit_log_and_the_coordinators(
    core: Core, client: Client
) -> None:
    await seed(core)
    await log_in(client)
    assert (await client.get("/audit")).status_code == 403
    assert (await client.get("/admin/coordinators")).status_code == 403
    assert 'href="/audit"' not in (await client.get("/flags")).text


async def test_the_audit_log_shows_who_did_what_in_the_own_programmes_only(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await make_admin(core, ids["Sara"])
    await log_in(client, "Otto")  # a log-in in the other programme
    await client.get(f"/flags/{ids['theirs']}")
    client.cookies.clear()
    await log_in(client)
    await client.get(f"/flags/{ids['mine']}")
    page = await client.get("/audit")
    assert page.status_code == 200 and 'href="/audit"' in page.text
    assert f'<a href="/flags/{ids["mine"]}">' in page.text and "Sara" in page.text
    assert f'<a href="/flags/{ids["theirs"]}">' not in page.text and "Otto" not in page.text
    views = await client.get("/audit?action=view")
    assert views.text.count("<tr>") == 2  # the header row and Sara's one view


async def add_coordinator(core: Core, client: Client, name: str, email: str) -> httpx.Response:
    """Log in as an admin of bridge and add ``name``, a Danish coordinator with a web log-in."""
    await as_admin(core, client)
    page = await client.get("/admin/coordinators")
    bridge = await programme_id(core)
    return await client.post(
        "/admin/coordinators",
        data={
            "csrf": csrf_of(page), "name": name, "programme": str(bridge),
            "role": "coordinator", "language": "da", "email": email,
        },
    )  # fmt: skip


async def test_an_admin_adds_a_coordinator_who_chooses_their_password_with_a_code(
    core: Core, client: Client
) -> None:
    added = await add_coordinator(core, client, "<b>Lars</b>", "lars@example.org")
    assert added.status_code == 200 and "/coordinator " in added.text
    assert "&lt;b&gt;Lars&lt;/b&gt;" in added.text and "<b>Lars</b>" not in added.text
    code = login_code_on(added)
    async with core.sessions() as session:
        lars = await session.scalar(select(Coordinator).where(Coordinator.name == "<b>Lars</b>"))
    assert (lars.email, lars.language, lars.password_hash) == ("lars@example.org", "da", None)
    client.cookies.clear()
    assert (await set_own_password(client, "lars@example.org", code)).status_code == 200
    assert (await log_in(client, "lars")).status_code == 303


async def test_an_admin_cannot_add_to_or_touch_another_programme(
    core: Core, client: Client
) -> None:
    ids = await as_admin(core, client)
    csrf = csrf_of(await client.get("/admin/coordinators"))
    elsewhere = await programme_id(core, "elsewhere")
    refused = await client.post(
        "/admin/coordinators",
        data={"csrf": csrf, "name": "Mallory", "programme": str(elsewhere), "role": "admin"},
    )
    assert refused.status_code == 403
    otto = await client.post(
        f"/admin/coordinators/{ids['Otto']}/login",
        data={"csrf": csrf, "email": "evil@example.org", "password": PASSWORD},
    )
    assert otto.status_code == 404
    async with core.sessions() as session:
        assert (await session.get(Coordinator, ids["Otto"])).email == "otto@example.org"


async def test_a_refused_coordinator_form_shows_the_page_again_not_a_server_error(
    core: Core, client: Client
) -> None:
    # A rollback expired the log-in's rows, and rendering the page then failed (500).
    refused = await add_coordinator(core, client, "Lars", "Sara@example.org")
    assert refused.status_code == 200 and 'role="alert"' in refused.text
    async with core.sessions() as session:
        assert await session.scalar(select(Coordinator).where(Coordinator.name == "Lars")) is None


async def _roles(core: Core, coordinator_id: int) -> dict[str, str]:
    async with core.sessions() as session:
        rows = await session.execute(
            select(Programme.code, CoordinatorRole.role)
            .join(CoordinatorRole, CoordinatorRole.programme_id == Programme.id)
            .where(CoordinatorRole.coordinator_id == coordinator_id)
        )
        return {code: role for code, role in rows}


async def test_an_admin_gives_takes_and_changes_access_and_a_removed_coordinator_is_logged_out(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await make_admin(core, ids["Sara"])
    bridge = await programme_id(core)
    async with core.sessions() as session:
        pia, _ = await invite_coordinator(session, "bridge", "Pia")
        await accounts.set_login(session, pia, "pia@example.org", PASSWORD)
        await session.commit()
    async with Client(
        transport=httpx.ASGITransport(app=create_app(core)), base_url="http://dashboard"
    ) as pias_browser:
        await log_in(pias_browser, "pia")
        assert (await pias_browser.get("/flags")).status_code == 200
        await log_in(client)
        csrf = csrf_of(await client.get("/admin/coordinators"))
        url = f"/admin/coordinators/{pia.id}/role"
        made_admin = await client.post(
            url, data={"csrf": csrf, "programme": bridge, "role": "admin"}
        )
        assert made_admin.status_code == 200 and await _roles(core, pia.id) == {"bridge": "admin"}
        removed = await client.post(url, data={"csrf": csrf, "programme": bridge, "role": "none"})
        assert removed.status_code == 200 and await _roles(core, pia.id) == {}
        # Pia's open dashboard session ended with her last programme.
        assert (await pias_browser.get("/flags")).status_code == 303
    async with core.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "set_role")))  # fmt: skip
    assert actions == ["Pia: bridge admin", "Pia: bridge none"]


async def test_the_last_admin_of_a_programme_cannot_give_it_up(core: Core, client: Client) -> None:
    ids = await as_admin(core, client)
    bridge = await programme_id(core)
    csrf = csrf_of(await client.get("/admin/coordinators"))
    refused = await client.post(
        f"/admin/coordinators/{ids['Sara']}/role",
        data={"csrf": csrf, "programme": bridge, "role": "coordinator"},
    )
    assert refused.status_code == 200 and "needs at least one admin" in refused.text
    assert await _roles(core, ids["Sara"]) == {"bridge": "admin"}


async def test_an_admin_cannot_change_access_of_someone_outside_their_programmes(
    core: Core, client: Client
) -> None:
    ids = await as_admin(core, client)
    bridge, elsewhere = await programme_id(core), await programme_id(core, "elsewhere")
    csrf = csrf_of(await client.get("/admin/coordinators"))
    otto = await client.post(
        f"/admin/coordinators/{ids['Otto']}/role",
        data={"csrf": csrf, "programme": bridge, "role": "admin"},
    )
    assert otto.status_code == 404
    theirs = await client.post(
        f"/admin/coordinators/{ids['Sara']}/role",
        data={"csrf": csrf, "programme": elsewhere, "role": "admin"},
    )
    assert theirs.status_code == 403
    assert await _roles(core, ids["Otto"]) == {"elsewhere": "coordinator"}
