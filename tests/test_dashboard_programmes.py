"""Admins manage their programmes in the dashboard: change one, start a new one; the running
bot takes the change in without a restart. Others are refused."""

from __future__ import annotations

import httpx
import pytest

from bot.core import Core
from bot.language import language_name
from bot.settings import Settings
from storage.models import Coordinator
from tests.dashboard import EVIL, Client, as_admin, csrf_of, log_in, make_admin, seed
from tests.fakes import FakeBotAPI
from tests.telegram import RunningBot
from tests.test_telegram_course import until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The bot looks for changed programmes as often as its clock ticks.
    return settings.model_copy(update={"dispatch_interval": 0.2})


def form_of(core: Core, code: str = "bridge", **changes: object) -> dict[str, object]:
    """The programme form as the browser posts it, with the programme's current values."""
    programme = core.programmes[code]
    fields: dict[str, object] = {
        "name": programme.name,
        "languages": list(programme.languages),
        "timezone": programme.timezone or "",
        "coordinator_reply_days": str(programme.coordinator_reply_days),
    }
    for n, line in enumerate(programme.help_lines):
        fields[f"help_label_{n}"], fields[f"help_number_{n}"] = line.label, line.number
    return {**fields, **changes}


async def start_programme(
    core: Core, client: Client, code: str, **changes: object
) -> httpx.Response:
    """Log in as an admin and post the form starting programme ``code`` from bridge's template
    (its values, but for ``changes``); redirects are followed."""
    await as_admin(core, client)
    page = await client.get("/admin/programmes")
    return await client.post(
        "/admin/programmes",
        data={
            "csrf": csrf_of(page), "template": "bridge", "code": code, "mentor_code": "",
            **form_of(core, **changes),
        },
        follow_redirects=True,
    )  # fmt: skip


async def test_only_admins_reach_the_programme_pages(core: Core, client: Client) -> None:
    await seed(core)
    await log_in(client)
    assert (await client.get("/admin/programmes")).status_code == 403
    assert (await client.get("/admin/programmes/bridge")).status_code == 404
    csrf = csrf_of(await client.get("/flags"))
    changed = await client.post("/admin/programmes/bridge", data={"csrf": csrf, **form_of(core)})
    assert changed.status_code == 404
    assert 'href="/admin/programmes"' not in (await client.get("/flags")).text


async def test_an_admin_of_one_programme_cannot_open_or_change_another(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await make_admin(core, ids["Otto"], "elsewhere")
    await log_in(client, "Otto")
    page = await client.get("/admin/programmes/bridge")
    assert page.status_code == 404
    csrf = csrf_of(await client.get("/flags"))
    posted = await client.post(
        "/admin/programmes/bridge", data={"csrf": csrf, **form_of(core, name="Taken over")}
    )
    assert posted.status_code == 404
    assert core.programmes["bridge"].name != "Taken over"


async def test_an_admin_changes_a_programme_through_the_form(core: Core, client: Client) -> None:
    await as_admin(core, client)
    listing = await client.get("/admin/programmes")
    assert listing.status_code == 200 and 'href="/admin/programmes/bridge"' in listing.text
    page = await client.get("/admin/programmes/bridge")
    form = form_of(core, name=EVIL, languages=["uk", "da"], coordinator_reply_days="4")
    without_token = await client.post("/admin/programmes/bridge", data=form)
    assert without_token.status_code == 403
    saved = await client.post(
        "/admin/programmes/bridge", data={"csrf": csrf_of(page), **form}, follow_redirects=True
    )
    assert saved.status_code == 200 and "new settings in within 0.2 seconds" in saved.text
    assert "&lt;script&gt;" in saved.text and EVIL not in saved.text
    bridge = core.programmes["bridge"]
    assert (bridge.name, bridge.languages, bridge.coordinator_reply_days) == (
        EVIL, ("uk", "da"), 4,
    )  # fmt: skip
    # The chosen languages come first, in the order given: the bot's menu follows it.
    boxes = saved.text.split('name="languages" value="')[1:4]
    rest = [code for code in core.catalogs.languages if code not in {"uk", "da"}]
    assert [box.split('"')[0] for box in boxes] == ["uk", "da", rest[0]]


async def test_a_wrong_field_is_marked_in_the_coordinators_language_and_nothing_is_saved(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await make_admin(core, ids["Sara"])
    async with core.sessions() as session:
        sara = await session.get(Coordinator, ids["Sara"])
        sara.language = "da"
        await session.commit()
    await log_in(client)
    page = await client.get("/admin/programmes/bridge")
    before = core.programmes["bridge"]
    refused = await client.post(
        "/admin/programmes/bridge",
        data={"csrf": csrf_of(page), **form_of(core, timezone="Mars/Olympus", name="Ny")},
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="timezone-problem"' in refused.text
    danish = core.catalogs.translations("da").gettext  # the dashboard's own catalog included
    problem = "Unknown time zone. Use a name like Europe/Copenhagen."
    assert danish(problem) != problem and danish(problem) in refused.text
    assert 'value="Ny"' in refused.text  # what was typed is kept
    assert core.programmes["bridge"] is before


async def test_a_programme_started_in_the_dashboard_takes_mentees_in_the_running_bot(
    core: Core, client: Client, running: RunningBot, server: FakeBotAPI
) -> None:
    created = await start_programme(
        core, client, "aarhus", name="Mentorer i Aarhus", languages=["so", "uk"]
    )
    assert created.status_code == 200 and "Mentorer i Aarhus" in created.text
    # The bot is another Core on the same database: its clock takes the programme in.
    await until(lambda: "aarhus" in running.core.programmes)
    user = server.user(4242)
    await user.send_command("/start", "aarhus")
    (menu,) = await user.wait_for_reply()
    assert set(user.buttons(menu)) == {language_name("so"), language_name("uk")}


async def test_a_new_programme_with_a_taken_code_is_refused_on_the_form(
    core: Core, client: Client
) -> None:
    refused = await start_programme(core, client, "Bridge", name="Copy")
    assert refused.status_code == 422
    assert 'aria-describedby="code-problem"' in refused.text
    assert "Another programme uses this code." in refused.text
    assert 'value="Bridge"' in refused.text
