"""The terminal demo: the same engine and database; the answers' buttons by number, the other
buttons by a word that stays the same; a typed number on a free-text question is text; the demo
ends after the intake, saying what was stored and what to try next, in the chosen language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.core import Core
from bot.language import fill, ngettext, texts
from bot.settings import PROJECT_ROOT
from handlers.console import (
    CHANNEL,
    DASHBOARD_COMMAND,
    GOODBYE,
    RUN_COMMAND,
    SERVE_COMMAND,
    STOPPED,
    run_console,
)
from storage.models import Answer, Participant, RunStatus, SurveyRun


class Script:
    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.output: list[str] = []
        self.reads = 0

    async def read_line(self, _prompt: str) -> str | None:
        self.reads += 1
        return self.lines.pop(0) if self.lines else None

    def write(self, text: str) -> None:
        self.output.append(text)

    @property
    def printed(self) -> str:
        return "\n".join(self.output)


# The whole mentee intake after language and consent, typed as someone trying the demo would:
# "2" as the contact is text (a phone extension, say), not a button.
INTAKE = [
    "Amina", "2", "2", "/decline", "1", "Syria", "3", "/skip", "Aleppo", "5", "1", "1", "3",
    "1", "4", "/done", "1", "6", "7", "/done", "2", "Arabic, English", "1", "1", "/skip", "2",
]  # fmt: skip


async def _answers(core: Core) -> dict[str, object]:
    async with core.sessions() as session:
        rows = await session.scalars(select(Answer))
        return {answer.question_id: answer.value for answer in rows}


async def test_console_runs_the_intake_by_numbers_and_text(core: Core) -> None:
    script = Script("1", "1", "Amina", "/quit")  # English, consent yes, name
    user = await run_console(core, user_id="demo-1", read_line=script.read_line, write=script.write)
    assert user == "demo-1"
    printed = script.printed
    assert "  [1] English" in printed and "  [2] Dansk" in printed
    assert "What is your name? A nickname is fine." in printed
    assert "How can we reach you?" in printed  # the second question followed
    assert printed.endswith(str(STOPPED))
    async with core.sessions() as session:
        participant = await session.scalar(select(Participant))
    assert (participant.channel, participant.channel_user_id) == (CHANNEL, "demo-1")
    assert await _answers(core) == {"name": "Amina"}


async def test_a_typed_number_on_a_free_text_question_is_the_answer(core: Core) -> None:
    # The name question has buttons too (Why, Talk to a person): "2" is still her answer.
    script = Script("1", "1", "2", "7", "/quit")
    await run_console(core, user_id="p", read_line=script.read_line, write=script.write)
    assert await _answers(core) == {"name": "2", "contact": "7"}
    assert "Write your message for your coordinator." not in script.printed


async def test_buttons_keep_their_keys_from_one_question_to_the_next(core: Core) -> None:
    script = Script("1", "1", "Amina", "+45 12 34 56 78", "2", "/quit")
    await run_console(core, user_id="p", read_line=script.read_line, write=script.write)
    printed = script.printed
    age = printed.split("How old are you?")[1].split("What is your gender?")[0]
    gender = printed.split("What is your gender?")[1]
    keys = [line.split("]")[0].strip(" [") for line in age.splitlines() if line.startswith("  [")]
    # The answers numbered from 1, then the other buttons, each by its word, last.
    assert keys == ["1", "2", "3", "4", "5", "/decline", "/back", "/why", "/talk"]
    assert "  [/decline] Prefer not to say" in gender and "  [/back] ◀ Back" in gender
    assert "  [/talk] 💬 Talk to a person" in gender and "  [1] Woman" in gender
    contact = printed.split("How can we reach you?")[1].split("How old are you?")[0]
    assert "  [/skip] Skip" in contact and "  [1]" not in contact  # no numbered answers
    # A word presses its button on any question: back from the gender to the age question.
    again = Script("/back", "/quit")
    await run_console(core, user_id="p", read_line=again.read_line, write=again.write)
    assert again.printed.split("How old are you?")[-1].count("[/back]") == 1


async def test_the_terminal_does_not_offer_voice(core: Core) -> None:
    script = Script("1", "1", "/quit")
    await run_console(core, user_id="p", read_line=script.read_line, write=script.write)
    assert str(texts.TEXT_ONLY_HINT) in script.printed
    assert "voice" not in script.printed.casefold()


async def test_console_continues_where_the_person_stopped(core: Core) -> None:
    first = Script("2", "1", "Amina")
    await run_console(core, user_id="p", read_line=first.read_line, write=first.write)
    again = Script()
    await run_console(core, user_id="p", read_line=again.read_line, write=again.write)
    printed = again.printed
    assert "Velkommen tilbage!" in printed
    assert "2 / " in printed


async def test_the_demo_ends_after_the_intake_with_what_was_stored_in_her_language(
    core: Core,
) -> None:
    script = Script("2", "1", *INTAKE, "never read")  # Dansk
    await run_console(
        core,
        user_id="p",
        read_line=script.read_line,
        write=script.write,
        database="/somewhere/mentorbot-demo.db",
    )
    assert script.lines == ["never read"] and script.reads == 2 + len(INTAKE)
    catalogs = core.engine.catalogs

    def danish(message: str) -> str:
        return catalogs.gettext("da", message)

    assert script.output[-1] == danish(GOODBYE.message) != GOODBYE.message
    summary = script.printed.split(danish(texts.INTAKE_DONE.message))[1]
    assert danish("That was the intake. The demo saved this about you:") in summary
    assert "/somewhere/mentorbot-demo.db" in summary
    for command in (DASHBOARD_COMMAND, RUN_COMMAND, SERVE_COMMAND):
        assert f"- {command}: " in summary
    with catalogs.use("da"):
        answered = fill(ngettext("{count} answer.", "{count} answers.", 19), count=19)
        passed = fill(
            ngettext("{count} question skipped.", "{count} questions skipped.", 3), count=3
        )
    assert f"- {answered}" in summary and f"- {passed}" in summary
    answers = await _answers(core)
    assert answers["contact"] == "2" and answers["goals"] == ["job", "language"]
    async with core.sessions() as session:
        run = await session.scalar(select(SurveyRun))
    assert run.status == RunStatus.COMPLETED


async def test_a_finished_demo_person_gets_the_summary_at_once(core: Core) -> None:
    await run_console(core, user_id="p", read_line=Script("1", "1", *INTAKE).read_line,
                      write=lambda _text: None)  # fmt: skip
    again = Script("never read")
    await run_console(core, user_id="p", read_line=again.read_line, write=again.write)
    assert again.reads == 0 and again.output[-1] == str(GOODBYE)


def _demo(folder: Path, *args: str, typed: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        input=typed,
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), **env},
        timeout=60,
    )


def test_demo_command_runs_on_a_fresh_folder_in_its_own_database(tmp_path: Path) -> None:
    result = _demo(tmp_path, typed="1\n1\nAmina\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "What is your name?" in result.stdout
    assert str(tmp_path / "mentorbot-demo.db") in result.stdout  # it says where
    # Nothing the real bot would read: no ./mentorbot.db, no mentorbot.secret.
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "mentorbot-demo.db",
        "mentorbot-demo.secret",
    ]
    assert result.stderr == ""  # not even a warning about the demo's secret
    # Kept between runs: the same person goes on where she stopped.
    user = result.stdout.split("--user ")[1].split()[0]
    again = _demo(tmp_path, "--user", user, typed="/quit\n")
    assert "Welcome back!" in again.stdout and "How can we reach you?" in again.stdout


def test_the_demo_refuses_to_share_the_real_database(tmp_path: Path) -> None:
    result = _demo(
        tmp_path,
        typed="/quit\n",
        DATABASE_URL="sqlite:///./shared.db",
        DEMO_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
    )
    assert result.returncode == 2
    assert result.stderr.startswith("mentorbot: error: DEMO_DATABASE_URL is the database of")
    assert list(tmp_path.iterdir()) == []
