"""A one-time log-in code in a real browser: an admin gives one to a colleague on the
Coordinators page, the colleague follows the link on the log-in page, chooses a password with it
on a phone, and logs in. Both pages pass axe-core; the code is in no address."""

from __future__ import annotations

from bot.coordination import invite_coordinator
from tests.browser import web
from tests.browser.test_dashboard_pages_browser import make_admin
from tests.telegram import RunningBot

HIS_OWN = "a passphrase of his own"


async def test_an_admin_gives_a_code_and_the_colleague_chooses_a_password_with_it(
    open_page: web.OpenPage, sara: web.Login, running: RunningBot
) -> None:
    await make_admin(running, sara)
    async with running.core.sessions() as session:
        tom, _ = await invite_coordinator(session, "bridge", "Tom")
        await session.commit()
    admin = await open_page(web.LAPTOP)
    await web.log_in(admin, sara)
    await admin.goto("/admin/coordinators")
    await admin.locator(f"#email-{tom.id}").fill("tom@example.org")
    reset = admin.locator(f'form[action="/admin/coordinators/{tom.id}/login"]')
    await reset.get_by_role("button", name="Give a one-time log-in code").click()
    await admin.get_by_role("heading", name="One-time log-in code for Tom").wait_for()
    code = await admin.locator("code.code").inner_text()
    await web.assert_accessible(admin, "the Coordinators page with a one-time code")

    phone = await open_page(web.PHONE)
    await phone.goto("/login")
    await phone.get_by_role(
        "link", name="Set your password with a one-time code from your admin"
    ).click()
    await web.assert_accessible(phone, "the set-your-password page")
    await phone.get_by_label("E-mail").fill("tom@example.org")
    await phone.get_by_label("One-time code").fill(code)
    await phone.get_by_label("New password (at least 12 characters)").fill(HIS_OWN)
    await phone.get_by_label("The new password again").fill(HIS_OWN)
    await phone.get_by_role("button", name="Set password").click()
    done = phone.get_by_role("status")
    await done.wait_for()
    assert "Your password is set" in await done.inner_text()
    for url in (admin.url, phone.url):
        assert code not in url and code.replace("-", "") not in url
    await web.log_in(phone, web.Login("Tom", "tom@example.org", HIS_OWN))
