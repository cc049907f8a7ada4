"""The mentors panel in a real browser: accessible (axe) and within the screen on a laptop and
a phone, and one click on a suggested mentor makes the match."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser import web
from tests.course import enrolled
from tests.dashboard import intake
from tests.telegram import RunningBot


async def waiting_mentee_with_mentors(running: RunningBot) -> int:
    core = running.core
    done = core.clock.now() - timedelta(weeks=3)
    amina = (await enrolled(core, "amina", "mentee", language="ar", code="bridge")).id
    await intake(core, amina, "Amina", done, industry="health", home_town="Aarhus",
                 mentor_gender="woman", interests="Cooking, football")  # fmt: skip
    for key, name, gender, field in (
        ("m", "Mette", "woman", "health"),
        ("h", "Hanne", "woman", "it"),
        ("j", "Jens", "man", "it"),
    ):
        mentor = (await enrolled(core, key, "mentor", language="da", code="bridge")).id
        await intake(
            core,
            mentor,
            name,
            done,
            gender=gender,
            industry=field,
            home_town="Viby J",
            languages="dansk, arabisk",
            interests="football",
        )
    return amina  # fmt: skip


@pytest.mark.parametrize("viewport", [web.LAPTOP, web.PHONE], ids=lambda v: v.name)
async def test_the_mentor_panel_passes_axe_fits_the_screen_and_matches_in_one_click(
    viewport: web.Viewport, open_page: web.OpenPage, sara: web.Login, running: RunningBot
) -> None:
    amina = await waiting_mentee_with_mentors(running)
    page = await open_page(viewport)
    await web.log_in(page, sara)
    await page.goto(f"/participants/{amina}?mentor=Jens")
    await page.get_by_role("heading", name="Mentors for this mentee").wait_for()
    await web.assert_accessible(page, f"the mentor panel at {viewport.name} width")
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport.width, f"the mentor panel is {width}px wide at {viewport.name}"
    await web.save_screenshot(page, f"mentor-panel-{viewport.name}")
    await page.get_by_role("button", name="Match with Mette").click()
    await page.wait_for_url(re.compile(r"/matches\?done=made"))
    assert "The match was made." in await page.locator("main").inner_text()
