"""Voice, end to end against the fake Bot API: a voice answer to an open question is stored,
downloaded, flagged for a coordinator to listen to and playable for them; a programme's recorded
question is sent with it; erasure deletes the file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.language import texts
from bot.settings import PROJECT_ROOT, Settings
from storage.models import Flag
from tests.fakes import FakeBotAPI
from tests.telegram import Mentee, RunningBot, running_bot, stored_answers
from tests.test_telegram_coordination import linked_coordinator
from tests.test_telegram_own_data import named_mentee

NAME = "What is your name? A nickname is fine."


async def test_a_voice_answer_is_stored_downloaded_flagged_and_playable(
    running: RunningBot, server: FakeBotAPI, settings: Settings
) -> None:
    sara = await linked_coordinator(running, server, 81)
    mentee = Mentee(server.user(7, "Amina"), running)
    await mentee.begin()
    await mentee.user.send_voice(duration=12)
    reply = await mentee.user.wait_for_reply()
    assert "2 / " in reply[-1]["text"]  # on to the next question: the voice answered it

    value, status = (await stored_answers(running))["name"]
    voice = value["voice"]
    assert status == "answered" and voice["duration"] == 12
    assert voice["file_id"].startswith("fake-voice-")
    kept = settings.voice_storage_dir / voice["file"]
    # Its modification time tells the day, not the second it came (an anonymous answer's
    # must not); read before the file is, as reading may move its access time.
    assert kept.stat().st_mtime % (24 * 60 * 60) == 0
    assert kept.read_bytes() == b"OggS-fake-opus"
    async with running.core.sessions() as session:
        flag = await session.scalar(select(Flag))
    assert (flag.category, flag.severity, flag.question_id) == ("voice_answer", "info", "name")

    await sara.send_command("/participant", "1")
    shown = await sara.wait_for_reply(count=2)
    assert "What is your name? A nickname is fine. » 🎤 Voice message (12 s)" in shown[0]["text"]
    assert shown[1]["voice"]["file_id"] == voice["file_id"]  # the coordinator can play it

    await mentee.user.send_command("/delete")
    await mentee.user.wait_for_reply()
    await mentee.user.tap(mentee.da(texts.DELETE_YES))
    await mentee.user.wait_for_reply(count=2)
    assert not kept.exists()
    server.assert_no_violations()


async def test_a_voice_message_at_a_button_question_is_not_an_answer(
    running: RunningBot, server: FakeBotAPI
) -> None:
    mentee = await named_mentee(running, server, 7)
    await mentee.tap(texts.SKIP)  # contact details: optional; now a button question
    await mentee.user.send_voice()
    reply = await mentee.user.wait_for_reply(count=2)
    assert reply[-2]["text"] == mentee.da(texts.PRESS_A_BUTTON)
    assert set(await stored_answers(running)) == {"name", "contact"}


@pytest.fixture
def recorded(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped programme with an audio folder holding one recording: the first question
    in Danish."""
    programmes = tmp_path / "programmes"
    programmes.mkdir()
    source = (PROJECT_ROOT / "programmes" / "bridge.yaml").read_text(encoding="utf-8")
    (programmes / "bridge.yaml").write_text(source + "\naudio: audio\n", encoding="utf-8")
    question = programmes / "audio" / "da" / "mentee_intake"
    question.mkdir(parents=True)
    (question / "name.ogg").write_bytes(b"OggS-recorded-question")
    return settings.model_copy(update={"programmes_dir": programmes})


@pytest.fixture
async def recorded_bot(recorded: Settings, server: FakeBotAPI) -> AsyncIterator[RunningBot]:
    async with running_bot(recorded, server) as bot:
        yield bot


async def test_a_recorded_question_comes_with_its_voice_note(
    recorded_bot: RunningBot, server: FakeBotAPI
) -> None:
    mentee = Mentee(server.user(7, "Amina"), recorded_bot)
    await mentee.start()
    await mentee.user.tap("Dansk")
    await mentee.user.wait_for_reply(count=2)
    await mentee.user.tap(mentee.da(texts.CONSENT_YES))
    reply = await mentee.user.wait_for_reply(count=3)
    sent = [m for m in reply if not m.get("edits")]
    assert "voice" in sent[0] and sent[1]["text"].endswith(
        mentee.da(NAME) + "\n\n" + mentee.da(texts.TEXT_HINT)
    )
    assert len(server.calls_of("sendVoice")) == 1
    assert server.files[sent[0]["voice"]["file_id"]].data == b"OggS-recorded-question"
    # A question without a recording goes out as text only.
    await mentee.type("Amina")
    assert len(server.calls_of("sendVoice")) == 1
    server.assert_no_violations()


def test_the_audio_command_lists_what_has_no_recording(
    recorded: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROGRAMMES_DIR", str(recorded.programmes_dir))
    assert main(["audio", "missing", "--programme", "bridge"]) == 0
    missing: dict[str, list[str]] = {}
    language = ""
    for line in capsys.readouterr().out.splitlines()[1:]:
        if line.startswith("  "):
            missing[language].append(line.strip())
        else:
            language = line.split(":")[0]
            missing[language] = []
    assert set(missing) == set(recorded_programme_languages(recorded))
    assert "mentee_intake/name" in missing["en"] and "mentee_intake/name" not in missing["da"]
    assert len(missing["en"]) == len(missing["da"]) + 1


def recorded_programme_languages(settings: Settings) -> list[str]:
    text = (settings.programmes_dir / "bridge.yaml").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("languages:"))
    return [code.strip() for code in line.split("[")[1].rstrip("]").split(",")]
