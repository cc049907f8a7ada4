"""Content files are read once per version: a changed file is read again, a broken one fails
every time (bot/file_versions.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.file_versions import read_once_per_version


def counting_reader() -> tuple[list[str], Callable[..., str]]:
    reads: list[str] = []

    @read_once_per_version
    def read(path: Path, suffix: str = "") -> str:
        text = path.read_text()
        reads.append(text)
        if text == "broken":
            raise ValueError("broken file")
        return text + suffix

    return reads, read


def test_an_unchanged_file_is_read_once_and_a_changed_one_again(tmp_path: Path) -> None:
    reads, read = counting_reader()
    path = tmp_path / "list.txt"
    path.write_text("one")
    assert read(path) == "one"
    assert read(tmp_path / "." / "list.txt") == "one"
    assert reads == ["one"]

    path.write_text("two")  # another size
    assert read(path) == "two"
    path.write_text("six")  # the same size, a later modification time
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000))
    assert read(path) == "six"
    assert reads == ["one", "two", "six"]


def test_other_arguments_are_part_of_the_version(tmp_path: Path) -> None:
    reads, read = counting_reader()
    path = tmp_path / "list.txt"
    path.write_text("one")
    assert read(path, "!") == "one!"
    assert read(path, suffix="?") == "one?"
    assert len(reads) == 2


def test_a_broken_file_fails_every_time(tmp_path: Path) -> None:
    reads, read = counting_reader()
    path = tmp_path / "list.txt"
    path.write_text("broken")
    for _ in range(2):
        with pytest.raises(ValueError, match="broken file"):
            read(path)
    assert reads == ["broken", "broken"]
