"""The dashboard's routes through FastAPI's ASGI interface (httpx): log-in, CSRF, escaping, and
that a coordinator of one programme can reach nothing of another. (Throttling, cookies and an
ended log-in: tests/test_dashboard_login.py.)"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.coordination import flag_view
from bot.core import Core
from bot.people import personal_data
from bot.settings import PROJECT_ROOT
from storage.models import AuditEntry, Coordinator, Flag, FlagMessage, Participant
from tests.course import FakeClock, RecordingOutbox
from tests.dashboard import EVIL, PASSWORD, Client, csrf_of, log_in, seed


async def test_every_page_needs_a_log_in(core: Core, client: Client) -> None:
    ids = await seed(core)
    for path in ("/", "/flags", f"/flags/{ids['mine']}", f"/participants/{ids['amina']}"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    refused = await client.post(f"/flags/{ids['mine']}/assign", data={"csrf": "x"})
    assert refused.status_code == 303


async def test_log_in_sets_an_httponly_samesite_cookie(core: Core, client: Client) -> None:
    await seed(core)
    response = await log_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/flags"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "mentorbot_session" in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert (await client.get("/flags")).status_code == 200


async def test_log_in_needs_the_forms_csrf_token(core: Core, client: Client) -> None:
    await seed(core)
    await client.get("/login")
    forged = await client.post(
        "/login", data={"csrf": "forged", "email": "sara@example.org", "password": PASSWORD}
    )
    assert forged.status_code == 403


async def test_a_wrong_password_is_refused_and_the_session_runs_out_by_the_cores_clock(
    core: Core, client: Client, clock: FakeClock
) -> None:
    await seed(core)
    wrong = await log_in(client, password="wrong password")
    assert wrong.status_code == 401 and "The e-mail or the password is wrong." in wrong.text
    assert (await log_in(client)).headers["location"] == "/flags"
    assert (await client.get("/flags")).status_code == 200
    clock.advance(hours=12)  # a session lasts 12 hours
    gone = await client.get("/flags")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_log_in_never_redirects_to_another_site(core: Core, client: Client) -> None:
    await seed(core)
    page = await client.get("/login?next=//evil.example/steal")
    response = await client.post(
        "/login",
        data={
            "csrf": csrf_of(page), "email": "sara@example.org", "password": PASSWORD,
            "next": "//evil.example/steal",
        },
    )  # fmt: skip
    assert response.headers["location"] == "/flags"


async def test_user_text_is_escaped(core: Core, client: Client) -> None:
    ids = await seed(core)
    await log_in(client)
    page = await client.get(f"/flags/{ids['mine']}")
    assert EVIL not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text


async def test_a_coordinator_sees_only_the_own_programme(core: Core, client: Client) -> None:
    ids = await seed(core)
    await log_in(client)
    queue = await client.get("/flags")
    assert f'/flags/{ids["mine"]}"' in queue.text and f'/flags/{ids["theirs"]}"' not in queue.text
    csrf = csrf_of(queue)
    assert (await client.get(f"/flags/{ids['theirs']}")).status_code == 404
    for action in ("assign", "resolve", "message"):
        posted = await client.post(
            f"/flags/{ids['theirs']}/{action}", data={"csrf": csrf, "outcome": "x", "text": "x"}
        )
        assert posted.status_code == 404, action

    await client.post("/logout", data={"csrf": csrf})
    await log_in(client, "Otto")
    assert (await client.get(f"/participants/{ids['amina']}")).status_code == 404
    assert (await client.get(f"/flags/{ids['mine']}")).status_code == 404
    async with core.sessions() as session:
        untouched = await session.get(Flag, ids["theirs"])
    assert untouched.assigned_to is None and untouched.status == "open"


async def test_a_form_without_the_csrf_token_changes_nothing(core: Core, client: Client) -> None:
    ids = await seed(core)
    await log_in(client)
    forged = await client.post(f"/flags/{ids['mine']}/assign", data={"csrf": "forged"})
    assert forged.status_code == 403
    async with core.sessions() as session:
        assert (await session.get(Flag, ids["mine"])).assigned_to is None


async def test_take_message_and_resolve_a_flag_from_the_web(core: Core, client: Client) -> None:
    ids = await seed(core)
    await log_in(client)
    csrf = csrf_of(await client.get(f"/flags/{ids['mine']}"))
    assert (
        await client.post(f"/flags/{ids['mine']}/assign", data={"csrf": csrf})
    ).status_code == 303
    sent = await client.post(
        f"/flags/{ids['mine']}/message", data={"csrf": csrf, "text": "Can we talk on Monday?"}
    )
    assert sent.status_code == 303
    # The bot's dispatcher delivers what was written in the dashboard, once.
    outbox = RecordingOutbox()
    contacts = core.contact_dispatcher({"test": outbox})
    await contacts.push_flags()
    await contacts.push_flags()
    (letter,) = outbox.to("100")
    assert letter.text == "A message from your coordinator, Sara:\n\nCan we talk on Monday?"

    empty = await client.post(f"/flags/{ids['mine']}/resolve", data={"csrf": csrf, "outcome": " "})
    assert empty.status_code == 400
    done = await client.post(
        f"/flags/{ids['mine']}/resolve",
        data={"csrf": csrf, "outcome": "Called her.", "confirm": "1"},
    )
    assert done.status_code == 303
    async with core.sessions() as session:
        flag = await session.get(Flag, ids["mine"])
        (message,) = await session.scalars(select(FlagMessage))
        actions = [e.action for e in await session.scalars(select(AuditEntry).where(
            AuditEntry.coordinator_id == ids["Sara"]
        ))]  # fmt: skip
    assert (flag.status, flag.outcome, flag.assigned_to) == ("resolved", "Called her.", ids["Sara"])
    assert message.pushed_at is not None
    assert actions == ["login", "view", "assign", "message", "resolve"]


async def test_log_out_ends_the_session(core: Core, client: Client) -> None:
    await seed(core)
    await log_in(client)
    csrf = csrf_of(await client.get("/flags"))
    out = await client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert (await client.get("/flags")).status_code == 303


def test_the_dashboard_command_serves_the_log_in_page(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "dashboard"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT),
            "DASHBOARD_PORT": str(port), "LOG_LEVEL": "INFO",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.2)
        assert page.status_code == 200 and 'name="password"' in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/flags", timeout=2).status_code == 303
        # A proxy on this machine is believed by default (DASHBOARD_TRUSTED_PROXIES): when it
        # says "https", the cookie is Secure and kept to this host.
        forwarded = httpx.get(
            f"http://127.0.0.1:{port}/login", headers={"X-Forwarded-Proto": "https"}, timeout=2
        )
        assert forwarded.headers["set-cookie"].startswith("__Host-mentorbot_login_csrf=")
        assert "Secure" in forwarded.headers["set-cookie"]
    finally:
        server.terminate()
        printed, logged = server.communicate(timeout=10)  # waits, and closes the pipes
    # No access log: it would write every client's address (personal data).
    assert (
        '"GET /login' not in printed + logged
    )  # uvicorn's: 127.0.0.1:41234 - "GET /login HTTP/1.1" 200


async def test_the_coordinator_chooses_the_language_of_the_pages(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await log_in(client)
    page = await client.get("/settings")
    assert '<option value="da"' in page.text and "العربية" in page.text
    refused = await client.post("/settings", data={"csrf": csrf_of(page), "language": "xx"})
    assert refused.status_code == 400
    saved = await client.post("/settings", data={"csrf": csrf_of(page), "language": "da"})
    assert saved.status_code == 200 and '<html lang="da">' in saved.text
    flag = await client.get(f"/flags/{ids['mine']}")
    assert ">Jeg tager den</button>" in flag.text  # shared with the bot's Danish catalog
    async with core.sessions() as session:
        sara = await session.get(Coordinator, ids["Sara"])
    assert sara.language == "da"  # the bot writes to her in Danish too


async def test_a_note_for_colleagues_stays_on_the_flag_and_is_never_sent(
    core: Core, client: Client
) -> None:
    ids = await seed(core)
    await log_in(client)
    csrf = csrf_of(await client.get(f"/flags/{ids['mine']}"))
    empty = await client.post(f"/flags/{ids['mine']}/note", data={"csrf": csrf, "note": "  "})
    assert empty.status_code == 400
    added = await client.post(
        f"/flags/{ids['mine']}/note", data={"csrf": csrf, "note": "Her sister translates."}
    )
    assert added.status_code == 303
    page = await client.get(f"/flags/{ids['mine']}")
    assert re.search(
        r"Coordinator&#39;s note by Sara\s*</strong></p>\s*"
        r"<blockquote[^>]*>Her sister translates\.",
        page.text,
    )
    timeline = await client.get(f"/participants/{ids['amina']}")
    assert "Her sister translates." in timeline.text

    outbox = RecordingOutbox()
    await core.contact_dispatcher({"test": outbox}).push_flags()
    assert outbox.sent == []  # a note is not a message to the participant
    async with core.sessions() as session:
        flag = await session.get(Flag, ids["mine"])
        view = await flag_view(session, flag, core.questionnaires)
        amina = await session.get(Participant, ids["amina"])
        mine = await personal_data(session, amina, core.questionnaires)
        actions = [e.action for e in await session.scalars(select(AuditEntry))]
    assert "Her sister translates." not in view.text  # nor in the bot's view of the flag
    (noted,) = json.loads(mine.document)["messages_with_coordinator"]
    assert noted["note_for_colleagues"] is True  # the person can see it in their own data
    assert "note" in actions
