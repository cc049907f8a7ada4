"""The real bot (`python -m bot run`, long polling), killed with SIGKILL at random moments while
20 people do their intake: no update is lost, none takes effect twice, every intake ends with
exactly the answers given (tests/crash.py)."""

from __future__ import annotations

from pathlib import Path

from tests.crash import killed_during_intakes
from tests.fakes import FakeBotAPI


async def test_killed_again_and_again_the_bot_loses_no_update_and_does_none_twice(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    await killed_during_intakes(server, tmp_path, "run")
