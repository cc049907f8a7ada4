"""Who may reset whose web log-in (issue 14, first finding): only an admin of every programme
the other account works in, or a site owner; a site owner's log-in only a site owner. A reset
sets the e-mail and gives a one-time code; nobody sets a password for someone else. Table-driven:
each acting account against each kind of colleague, with two programmes (bridge and elsewhere);
then the takeover as it was found, played to the end."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.core import Core
from storage.models import Coordinator
from tests.dashboard import Client, accounts_in_two_programmes, csrf_of, log_in

NEW_PASSWORD = "a brand new passphrase"

# name -> roles by programme code
ACCOUNTS = {
    "Ada": {"bridge": "admin"},  # admin of bridge only
    "Bea": {"bridge": "admin", "elsewhere": "admin"},  # admin of both
    "Cole": {"bridge": "coordinator"},  # no admin anywhere
    "Tom": {"bridge": "coordinator"},  # works in bridge only
    "Bo": {"bridge": "coordinator", "elsewhere": "admin"},  # the takeover's target
    "Eve": {"elsewhere": "coordinator"},  # shares no programme with Ada or Cole
    "Sue": {"bridge": "coordinator"},  # a site owner, who also coordinates in bridge
    "Ken": {},  # a site owner with no programme
}
OWNERS = {"Sue", "Ken"}

# (actor, target) -> the answer; 200 means the e-mail was set and a one-time code shown.
EXPECTED = {
    ("Ada", "Tom"): 200,
    ("Ada", "Bo"): 403,  # Bo is admin of elsewhere, where Ada is nobody
    ("Ada", "Eve"): 404,  # not a colleague of Ada's at all
    ("Bea", "Tom"): 200,
    ("Bea", "Bo"): 200,  # Bea is admin of both of Bo's programmes
    ("Bea", "Eve"): 200,
    ("Cole", "Tom"): 404,  # not an admin: colleagues' log-ins are not shown to her
    ("Cole", "Bo"): 404,
    ("Ada", "Bea"): 403,  # an admin of more programmes than Ada
    ("Ada", "Sue"): 403,  # Sue works only in bridge, but a site owner is an admin everywhere
    ("Bea", "Sue"): 403,
    ("Ken", "Bo"): 200,  # a site owner resets anyone's log-in
    ("Ken", "Sue"): 200,  # and another site owner's
    ("Sue", "Bea"): 200,
}


async def accounts_of_two_programmes(core: Core) -> dict[str, int]:
    return await accounts_in_two_programmes(core, ACCOUNTS, OWNERS)


async def email_of(core: Core, coordinator_id: int) -> str | None:
    async with core.sessions() as session:
        return await session.scalar(
            select(Coordinator.email).where(Coordinator.id == coordinator_id)
        )


@pytest.mark.parametrize(("actor", "target"), list(EXPECTED))
async def test_only_an_admin_of_all_their_programmes_or_a_site_owner_resets_a_log_in(
    core: Core, client: Client, actor: str, target: str
) -> None:
    ids = await accounts_of_two_programmes(core)
    assert (await log_in(client, actor)).status_code == 303
    page = await client.get("/admin/coordinators")
    csrf = csrf_of(page) if page.status_code == 200 else csrf_of(await client.get("/settings"))
    answer = await client.post(
        f"/admin/coordinators/{ids[target]}/login",
        data={"csrf": csrf, "email": "taken@example.org", "password": NEW_PASSWORD},
    )
    assert answer.status_code == EXPECTED[(actor, target)]
    changed = await email_of(core, ids[target]) == "taken@example.org"
    assert changed is (answer.status_code == 200)
    assert ('<code class="code">' in answer.text) is (answer.status_code == 200)
    client.cookies.clear()
    # The password in the form was ignored: it opens nobody's account.
    assert (await log_in_as(client, "taken@example.org", NEW_PASSWORD)).status_code == 401


async def test_the_takeover_across_programmes_is_refused_and_the_form_is_not_offered(
    core: Core, client: Client
) -> None:
    """As found: Ada (admin of bridge) set the log-in of Bo (coordinator in bridge, admin of
    elsewhere), logged in as Bo and acted in elsewhere."""
    ids = await accounts_of_two_programmes(core)
    await log_in(client, "Ada")
    page = await client.get("/admin/coordinators")
    assert f"/admin/coordinators/{ids['Tom']}/login" in page.text
    assert f"/admin/coordinators/{ids['Bo']}/login" not in page.text
    assert f"/admin/coordinators/{ids['Sue']}/login" not in page.text
    assert "only an admin of all their programmes can change their log-in" in page.text
    assert "only a site owner can change their log-in" in page.text
    refused = await client.post(
        f"/admin/coordinators/{ids['Bo']}/login",
        data={"csrf": csrf_of(page), "email": "ada-owns-bo@example.org", "password": NEW_PASSWORD},
    )
    assert refused.status_code == 403
    assert "only an admin of all their programmes can change their log-in" in refused.text
    client.cookies.clear()
    taken = await log_in_as(client, "ada-owns-bo@example.org", NEW_PASSWORD)
    assert taken.status_code != 303  # no way in as Bo
    assert (await log_in(client, "Bo")).status_code == 303  # Bo's own log-in still works


async def log_in_as(client: Client, email: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"csrf": csrf_of(page), "email": email, "password": password}
    )
