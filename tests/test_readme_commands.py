"""The README's table of commands lists every command the parser has, no more, and only options
that the command takes: a new command without its row, or a row for one that is gone, fails."""

from __future__ import annotations

import argparse
import re

from bot.cli import build_parser
from bot.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


def _commands(parser: argparse.ArgumentParser, above: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """Every command the parser runs ("match create"), with the options it takes."""
    found: dict[str, set[str]] = {}
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        options = {option for action in parser._actions for option in action.option_strings}
        return {" ".join(above): options}
    for name, command in groups[0].choices.items():
        found |= _commands(command, (*above, name))
    return found


def _table_rows() -> list[str]:
    """The first cell of each row of the table under "## Commands"."""
    section = README.read_text(encoding="utf-8").split("\n## Commands\n", 1)[1].split("\n## ")[0]
    return [
        line.split("|")[1].strip().strip("`")
        for line in section.splitlines()
        if line.startswith("| `python -m bot ")
    ]


def _listed(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """The commands of the table (a command's words: as far as the parser has such commands),
    with the options each row shows."""
    commands = _commands(parser)
    listed: dict[str, set[str]] = {}
    for row in _table_rows():
        words = row.removeprefix("python -m bot ").split()
        name = ""
        for word in words:
            candidate = f"{name} {word}".strip()
            if not any(command == candidate or command.startswith(candidate + " ")
                       for command in commands):  # fmt: skip
                break
            name = candidate
        listed.setdefault(name, set()).update(re.findall(r"--[a-z][a-z-]*", row))
    return listed


def test_the_readme_lists_every_command_and_no_other() -> None:
    parser = build_parser()
    assert sorted(_listed(parser)) == sorted(_commands(parser))


def test_the_options_in_the_readme_exist() -> None:
    parser = build_parser()
    commands = _commands(parser)
    unknown = {
        name: options - commands[name]
        for name, options in _listed(parser).items()
        if name in commands and options - commands[name]
    }
    assert unknown == {}


def test_the_table_includes_the_demo_commands() -> None:
    listed = _listed(build_parser())
    assert "seed-demo" in listed and "--with-dashboard" in listed["demo"]
    assert "coordinator init" in listed
