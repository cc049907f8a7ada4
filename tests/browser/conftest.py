"""Browser tests: the real dashboard (uvicorn on 127.0.0.1, a free port) and the real bot
(long polling the fake Bot API), on one temporary SQLite database, driven by Debian's
headless Chromium through Playwright.

Without Chromium, Playwright or axe-core the tests are skipped, with the reason; CI sets
MENTORBOT_REQUIRE_BROWSER=1 (see .ci/run), which turns that skip into a failure.

Fixtures for new browser tests:
- `dashboard`: the dashboard's base URL, e.g. "http://127.0.0.1:41234".
- `sara`: a coordinator of the bridge programme with a web log-in (`tests.browser.web.Login`).
- `browser`: a launched Chromium; `open_page(viewport)` gives a fresh page (own cookies) on it.
- `signed_in`: a laptop-width page already logged in as Sara.
- `flagged`: a participant's alarming answer went through the fake Bot API; the flag's id.
`tests.browser.web` has the helpers: `log_in`, `assert_accessible`, `save_screenshot`, `download`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlalchemy import select

import bot.coordination.accounts as accounts
from bot.coordination import invite_coordinator
from storage.models import Flag
from tests.browser import web
from tests.fakes import FakeBotAPI
from tests.telegram import RunningBot
from tests.test_telegram_coordination import alarming_answer

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path(os.environ.get("MENTORBOT_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("MENTORBOT_REQUIRE_BROWSER") == "1"
# Chromium as root in a container, on a machine with no network beyond loopback: no sandbox,
# and none of its own background connections (they would only be refused).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if web.axe_script() is None:
        return (
            "axe-core is not installed: npm install --prefix tests/browser/vendor axe-core, "
            "or set MENTORBOT_AXE_JS to an axe.min.js"
        )
    return None


@pytest.fixture(autouse=True)
def _browser_available() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(f"browser tests required (MENTORBOT_REQUIRE_BROWSER=1), but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The browser suite runs on SQLite only (the route tests cover PostgreSQL)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'mentorbot.db'}"


class _Server(uvicorn.Server):
    """uvicorn inside the test's event loop: the test runner keeps its own signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture
async def dashboard(running: RunningBot) -> AsyncIterator[str]:
    """The real dashboard app on the bot's core (the same database), served by uvicorn."""
    from dashboard.app import create_app

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_app(running.core),
        log_level="warning",
        lifespan="off",
        access_log=False,
        proxy_headers=False,  # as `python -m bot dashboard`: DASHBOARD_TRUSTED_PROXIES decides
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while not server.started:
            assert not task.done(), "the dashboard did not start"
            assert asyncio.get_running_loop().time() < deadline, "the dashboard did not start"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        listener.close()


@pytest.fixture
async def sara(running: RunningBot) -> web.Login:
    """A coordinator of the bridge programme with a web log-in, made in the database."""
    login = web.Login(name="Sara", email="sara@example.org", password="correct horse battery")
    async with running.core.sessions() as session:
        coordinator, _ = await invite_coordinator(session, "bridge", login.name)
        await accounts.set_login(session, coordinator, login.email, login.password)
        await session.commit()
        login.coordinator_id = coordinator.id
    return login


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def open_page(browser: Browser, dashboard: str) -> AsyncIterator[web.OpenPage]:
    """`await open_page(web.LAPTOP)`: a new page in its own context (own cookies), whose
    relative URLs go to the dashboard; downloads are kept."""
    contexts = []

    async def new_page(viewport: web.Viewport) -> Page:
        context = await browser.new_context(
            base_url=dashboard,
            viewport={"width": viewport.width, "height": viewport.height},
            accept_downloads=True,
            bypass_csp=True,  # axe-core is injected as a script tag
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return await context.new_page()

    yield new_page
    for context in contexts:
        await context.close()


@pytest.fixture
async def signed_in(open_page: web.OpenPage, sara: web.Login) -> Page:
    """A laptop-width page, logged in as Sara through the log-in form, on the flags queue."""
    page = await open_page(web.LAPTOP)
    await web.log_in(page, sara)
    return page


@pytest.fixture
async def flagged(running: RunningBot, server: FakeBotAPI) -> int:
    """Amina, a participant, answers "Syria. My husband hits me" in the intake through the
    fake Bot API; the bot raises a danger flag. Its id."""
    await alarming_answer(server)
    async with running.core.sessions() as session:
        flag_id = await session.scalar(select(Flag.id).where(Flag.category == "danger"))
    assert flag_id is not None, "the alarming answer raised no flag"
    return flag_id
