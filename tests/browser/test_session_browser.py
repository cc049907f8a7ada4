"""A log-in that ended, in a real browser (issue 14): the coordinator is signed in, the core's
clock moves past the 30 idle minutes, and the next page she opens is the log-in page, saying in
plain words that her log-in ended; once she logs in again she is on the page she was opening."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser import web
from tests.course import FakeClock

if TYPE_CHECKING:
    from playwright.async_api import Page

ENDED = "Your log-in has ended. Log in again to go on where you were."


async def test_an_ended_log_in_says_so_and_goes_back_where_she_was_going(
    signed_in: Page, sara: web.Login, clock: FakeClock
) -> None:
    page = signed_in
    clock.advance(minutes=31)  # the dashboard takes the time from the core's clock
    await page.get_by_role("link", name="Matches").click()

    await page.wait_for_url(re.compile(r"/login\?next=/matches&ended=1$"))
    assert await page.get_by_role("status").inner_text() == ENDED
    assert await page.get_by_role("alert").count() == 0  # not an error of hers
    assert "mentorbot_session" not in {c["name"] for c in await page.context.cookies()}
    await web.assert_accessible(page, "the log-in page after the log-in ended")
    await web.save_screenshot(page, "login-ended")

    await page.get_by_label("E-mail").fill(sara.email)
    await page.get_by_label("Password").fill(sara.password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/matches$"))
    assert await page.get_by_role("heading", level=1).inner_text() == "Matches"
