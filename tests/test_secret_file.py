"""The secret file (SECRET_FILE) of the keyed hashes, when no RESPONDENT_KEY_SECRET is set:
made on the first start, and the same for every process, also for two that start at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.people import load_secret
from bot.settings import load_settings


def test_the_secret_file_is_made_once_and_read_by_every_process(tmp_path: Path) -> None:
    settings = load_settings(secret_file=tmp_path / "mentorbot.secret")
    first = load_secret(settings)
    assert len(first) == 64 and load_secret(settings) == first
    assert (tmp_path / "mentorbot.secret").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["mentorbot.secret"]  # no draft left


def test_a_secret_another_process_made_meanwhile_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mentorbot.secret"
    path.write_text("theirs\n")
    # Both looked before either had written: neither saw a file.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert load_secret(load_settings(secret_file=path)) == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["mentorbot.secret"]
