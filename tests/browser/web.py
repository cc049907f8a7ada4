"""Helpers for the browser tests: viewports, the log-in form, the axe-core accessibility check,
screenshots and downloads kept as test artefacts (tests/browser/artifacts/, not committed)."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
# Where .ci/run puts axe-core (npm install --prefix tests/browser/vendor axe-core).
AXE_VENDORED = HERE / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int


LAPTOP = Viewport("laptop", 1280, 800)
PHONE = Viewport("phone", 390, 844)
# The `open_page` fixture: `await open_page(LAPTOP)` gives a new page on the dashboard.
OpenPage = Callable[[Viewport], Awaitable["Page"]]


@dataclass
class Login:
    name: str
    email: str
    password: str
    coordinator_id: int = 0


def axe_script() -> Path | None:
    """axe.min.js: MENTORBOT_AXE_JS if set, else the vendored npm package."""
    given = os.environ.get("MENTORBOT_AXE_JS")
    found = Path(given) if given else AXE_VENDORED
    return found if found.is_file() else None


async def log_in(page: Page, login: Login, path: str = "/login") -> None:
    """Fill in and send the log-in form as a person would; land on the flags queue."""
    await page.goto(path)
    await page.get_by_label("E-mail").fill(login.email)
    await page.get_by_label("Password").fill(login.password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/flags$"))


def _readable(violations: list[dict[str, Any]], where: str) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n       ")
            lines.append(f"       {summary}")
    return "\n".join(lines)


async def assert_accessible(page: Page, where: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.
    Returns the lesser (minor, moderate) ones, which are printed but do not fail."""
    where = where or page.url
    script = axe_script()
    assert script is not None, "axe-core is not installed"
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(script))
    results = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = results["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    lesser = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
    for violation in lesser:
        print(f"axe ({where}): [{violation['impact']}] {violation['id']}: {violation['help']}")
    if blocking:
        pytest.fail(_readable(blocking, where), pytrace=False)
    return lesser


def artifact(name: str) -> Path:
    """A path under tests/browser/artifacts/ for a file a person may want to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


async def save_screenshot(page: Page, name: str) -> Path:
    """The whole page as tests/browser/artifacts/<name>.png."""
    path = artifact(f"{name}.png")
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


async def download(page: Page, link: Locator, name: str | None = None) -> Path:
    """Click `link`, wait for the download and keep it under tests/browser/artifacts/
    (as `name`, else the file name the server suggested)."""
    async with page.expect_download() as started:
        await link.click()
    got = await started.value
    path = artifact(name or got.suggested_filename)
    await got.save_as(str(path))
    return path
