"""Every dashboard page in a real browser: the participant timeline shows the answer given in
Telegram, the answers download as an Excel file with that answer in it, the results page is
kept as a screenshot, and each page passes axe-core at laptop and phone width."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from storage import repositories as repo
from storage.models import CoordinatorRole
from tests.browser import web
from tests.telegram import RunningBot

if TYPE_CHECKING:
    from playwright.async_api import Page

ANSWER = "Syria. My husband hits me"


async def make_admin(running: RunningBot, login: web.Login) -> None:
    async with running.core.sessions() as session:
        bridge = await repo.programme_by_code(session, "bridge")
        assert bridge is not None
        role = await session.get(CoordinatorRole, (login.coordinator_id, bridge.id))
        assert role is not None
        role.role = "admin"
        await session.commit()


async def test_timeline_shows_the_telegram_answer_and_the_excel_download_holds_it(
    signed_in: Page, flagged: int
) -> None:
    page = signed_in
    await page.goto(f"/flags/{flagged}")
    await page.get_by_role("link", name="participant 1").first.click()
    await page.wait_for_url(re.compile(r"/participants/1$"))
    await page.get_by_role("heading", name="Timeline").wait_for()
    assert ANSWER in await page.locator("main").inner_text()

    await page.goto("/results")
    link = page.locator('a[href^="/results/export.xlsx?survey=mentee_intake"]')
    saved = await web.download(page, link, "mentee_intake.xlsx")
    workbook = load_workbook(saved, read_only=True)
    rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    cells = {str(cell) for row in rows[1:] for cell in row}
    assert ANSWER in cells and "Amina" in cells


@pytest.mark.parametrize("viewport", [web.LAPTOP, web.PHONE], ids=lambda v: v.name)
async def test_every_page_passes_axe_and_fits_the_screen(
    viewport: web.Viewport,
    open_page: web.OpenPage,
    sara: web.Login,
    flagged: int,
    running: RunningBot,
) -> None:
    await make_admin(running, sara)
    page = await open_page(viewport)
    await web.log_in(page, sara)
    for path in (
        "/participants", "/participants/1", "/matches", "/schedule", "/results", "/audit",
        "/admin/coordinators", "/admin/programmes", "/admin/programmes/bridge", "/settings",
        "/login/set-password",
    ):  # fmt: skip
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await web.assert_accessible(page, f"{path} at {viewport.name} width")
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport.width, f"{path} is {width}px wide at {viewport.name} width"
        if path == "/results":
            await web.save_screenshot(page, f"results-{viewport.name}")
