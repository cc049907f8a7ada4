"""The terminal demo: the same engine and database, buttons picked by number."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.core import Core
from bot.settings import PROJECT_ROOT
from handlers.console import CHANNEL, run_console
from storage.models import Answer, Participant


class Script:
    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.output: list[str] = []

    async def read_line(self, _prompt: str) -> str | None:
        return self.lines.pop(0) if self.lines else None

    def write(self, text: str) -> None:
        self.output.append(text)


async def test_console_runs_the_intake_by_numbers_and_text(core: Core) -> None:
    script = Script("1", "1", "Amina", "/quit")  # English, consent yes, name
    user = await run_console(core, user_id="demo-1", read_line=script.read_line, write=script.write)
    assert user == "demo-1"
    printed = "\n".join(script.output)
    assert "  [1] English" in printed and "  [2] Dansk" in printed
    assert "What is your name? A nickname is fine." in printed
    assert "How can we reach you?" in printed  # the second question followed
    assert printed.endswith("Bye. Your answers are saved.")
    async with core.sessions() as session:
        participant = await session.scalar(select(Participant))
        answer = await session.scalar(select(Answer))
    assert (participant.channel, participant.channel_user_id) == (CHANNEL, "demo-1")
    assert (answer.question_id, answer.value) == ("name", "Amina")


async def test_console_continues_where_the_person_stopped(core: Core) -> None:
    first = Script("2", "1", "Amina")
    await run_console(core, user_id="p", read_line=first.read_line, write=first.write)
    again = Script()
    await run_console(core, user_id="p", read_line=again.read_line, write=again.write)
    printed = "\n".join(again.output)
    assert "Velkommen tilbage!" in printed
    assert "2 / " in printed


def test_demo_command_runs_on_a_fresh_folder_without_a_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input="1\n1\nAmina\n/quit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "What is your name?" in result.stdout
    assert (tmp_path / "mentorbot.db").exists()
