"""The dashboard in a real browser: log in through the form; a flag raised by a participant's
alarming answer in Telegram (the fake Bot API) is seen, taken and resolved in the browser; the
log-in page, the flags queue, the flag page and the confirmation before resolving pass axe-core
at laptop and phone width."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Flag
from tests.browser import web
from tests.fakes import FakeBotAPI
from tests.telegram import RunningBot

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

ANSWER = "Syria. My husband hits me"


async def test_coordinator_logs_in_through_the_form_and_gets_a_lax_http_only_cookie(
    open_page: web.OpenPage, sara: web.Login
) -> None:
    page = await open_page(web.LAPTOP)
    await page.goto("/flags")
    assert re.search(r"/login\?next=/flags$", page.url), page.url

    await page.get_by_label("E-mail").fill(sara.email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    assert await page.get_by_role("alert").inner_text() == "The e-mail or the password is wrong."
    assert "mentorbot_session" not in {c["name"] for c in await page.context.cookies()}

    await web.log_in(page, sara)
    assert await page.get_by_role("heading", level=1).inner_text() == "Open flags"
    assert "Sara" in await page.locator("header").inner_text()
    assert await page.get_by_role("button", name="Log out").is_visible()
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == "mentorbot_session"]
    # Over plain HTTP on 127.0.0.1 (DASHBOARD_SECURE_COOKIE=auto): neither Secure nor __Host-.
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]


async def test_flag_from_an_alarming_answer_is_taken_and_resolved_in_the_browser(
    running: RunningBot, server: FakeBotAPI, flagged: int, signed_in: Page, sara: web.Login
) -> None:
    page = signed_in
    row = page.locator("tbody tr", has=page.get_by_role("link", name=f"#{flagged}"))
    await row.wait_for()
    cells = [text.strip() for text in await row.locator("td").all_inner_texts()]
    assert cells[1:3] == ["URGENT", "Danger signs in an answer"]
    assert cells[3].startswith("participant 1 · ")  # and the name given in the intake
    assert cells[5] == cells[4].rsplit(" ", 1)[0]  # urgent: to be answered the day it came
    assert cells[6] == ""  # nobody has taken it yet
    await web.save_screenshot(page, "flags")

    await row.get_by_role("link", name=f"#{flagged}").click()
    await page.wait_for_url(re.compile(rf"/flags/{flagged}$"))
    heading = await page.get_by_role("heading", level=1).inner_text()
    assert heading == f"#{flagged} · Danger signs in an answer"
    assert await page.locator("p.question").inner_text() == "Which country do you come from?"
    assert await page.locator("blockquote.answer").inner_text() == ANSWER
    assert "Taken by: Nobody yet" in await page.locator("main p.severity-urgent").inner_text()

    await page.get_by_role("button", name="Take it").click()
    await page.wait_for_url(re.compile(rf"/flags/{flagged}$"))
    assert "Taken by: Sara" in await page.locator("main p.severity-urgent").inner_text()
    async with running.core.sessions() as session:
        taken = await session.get(Flag, flagged)
        assert taken is not None
        assert (taken.status, taken.assigned_to) == ("assigned", sara.coordinator_id)
    await web.save_screenshot(page, "flag")

    # A person in danger was shown the programme's help lines: the coordinator sees which.
    help_lines = await page.locator("ul.help-lines").inner_text()
    assert "Emergency (police, ambulance): 112" in help_lines

    # Resolving is not sending: it asks first, and only "Yes, resolve" resolves.
    await page.get_by_label("Outcome: what was done").fill(
        "Called her; referred to the crisis centre."
    )
    await page.get_by_role("button", name="Resolve…").click()
    await page.get_by_role("heading", name=f"Resolve flag #{flagged}?").wait_for()
    async with running.core.sessions() as session:
        still = await session.get(Flag, flagged)
        assert still is not None and still.status == "assigned"
    await web.save_screenshot(page, "flag-resolve")
    await page.get_by_role("button", name="Yes, resolve").click()
    await page.wait_for_url(re.compile(r"/flags$"))
    assert await page.get_by_role("link", name=f"#{flagged}").count() == 0
    assert await page.get_by_text("No open flags.").is_visible()

    async with running.core.sessions() as session:
        resolved = await session.get(Flag, flagged)
        steps = [
            (entry.action, entry.flag_id, entry.coordinator_id)
            for entry in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert resolved is not None
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    assert resolved.outcome == "Called her; referred to the crisis centre."
    assert resolved.assigned_to == sara.coordinator_id
    on_the_flag = [action for action, flag_id, who in steps if flag_id == flagged]
    assert on_the_flag == ["view", "assign", "view", "resolve"]
    assert {who for _, flag_id, who in steps if flag_id == flagged} == {sara.coordinator_id}
    server.assert_no_violations()


async def _fits_the_width(page: Page, viewport: web.Viewport) -> None:
    """Nothing sticks out sideways: a phone never needs to scroll left and right."""
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport.width, f"{page.url} is {width}px wide at {viewport.name} width"


@pytest.mark.parametrize("viewport", [web.LAPTOP, web.PHONE], ids=lambda v: v.name)
async def test_login_flags_and_flag_pages_have_no_serious_accessibility_violations(
    viewport: web.Viewport, open_page: web.OpenPage, sara: web.Login, flagged: int
) -> None:
    page = await open_page(viewport)
    await page.goto("/login")
    await web.assert_accessible(page, f"the log-in page at {viewport.name} width")
    await _fits_the_width(page, viewport)

    await web.log_in(page, sara)
    await page.get_by_role("link", name=f"#{flagged}").wait_for()
    await web.assert_accessible(page, f"the flags queue at {viewport.name} width")
    await _fits_the_width(page, viewport)
    await web.save_screenshot(page, f"flags-{viewport.name}")

    await page.get_by_role("link", name=f"#{flagged}").click()
    await page.wait_for_url(re.compile(rf"/flags/{flagged}$"))
    await web.assert_accessible(page, f"the flag page at {viewport.name} width")
    await _fits_the_width(page, viewport)
    await web.save_screenshot(page, f"flag-{viewport.name}")

    await page.get_by_label("Outcome: what was done").fill("Called her.")
    await page.get_by_role("button", name="Resolve…").click()
    await page.get_by_role("button", name="Yes, resolve").wait_for()
    await web.assert_accessible(page, f"the confirmation before resolving at {viewport.name}")
    await _fits_the_width(page, viewport)


async def test_accessibility_check_fails_on_a_serious_violation(browser: Browser) -> None:
    """The check itself can fail: an image without a text alternative is "critical"."""
    page = await browser.new_page()
    try:
        await page.set_content(
            '<!doctype html><html lang="en"><head><title>t</title></head>'
            '<body><main><h1>t</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            "</main></body></html>"
        )
        with pytest.raises(pytest.fail.Exception, match=r"\[critical\] image-alt"):
            await web.assert_accessible(page, "a page made to fail")
    finally:
        await page.close()
