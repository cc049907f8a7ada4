"""/mydata and /delete through Telegram."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.language import texts
from storage.models import InboxUpdate, Participant
from tests.fakes import FakeBotAPI
from tests.telegram import Mentee, RunningBot


async def named_mentee(running: RunningBot, server: FakeBotAPI, user_id: int) -> Mentee:
    """Amina, past language and consent, who has answered the first question: her name."""
    amina = Mentee(server.user(user_id, "Amina"), running)
    await amina.begin()
    await amina.type("Amina")
    return amina


async def test_mydata_sends_a_summary_and_a_json_file(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina = await named_mentee(running, server, 41)
    await amina.user.send_command("/mydata")
    summary, document = await amina.user.wait_for_reply(count=2)
    assert summary["text"].startswith(amina.da(texts.MYDATA_INTRO))
    assert "Amina" in summary["text"]
    (upload,) = [call for call in server.calls_of("sendDocument")]
    data = json.loads(upload["document"].data)
    assert data["participant"]["channel_user_id"] == "41"
    assert data["surveys"][0]["answers"]["name"]["value"] == "Amina"
    assert document["document"]["file_name"] == "mydata.json"
    server.assert_no_violations()


async def test_delete_asks_then_erases(running: RunningBot, server: FakeBotAPI) -> None:
    amina = await named_mentee(running, server, 42)
    await amina.user.send_command("/delete")
    (confirm,) = await amina.user.wait_for_reply()
    assert confirm["text"] == amina.da(texts.DELETE_CONFIRM)
    reply = await amina.tap(texts.DELETE_YES, count=2)
    assert reply[-1]["text"] == amina.da(texts.DELETE_DONE)
    async with running.core.sessions() as session:
        people = list(await session.scalars(select(Participant)))
        updates = list(await session.scalars(select(InboxUpdate)))
    assert [(p.channel_user_id, p.status) for p in people] == [
        (f"erased-{people[0].id}", "withdrawn")
    ]
    # What she wrote, as it came in, went too; the update ids stay to recognise a repeat.
    assert updates and {(u.chat, str(u.payload)) for u in updates} == {("erased", "{}")}
    server.assert_no_violations()
