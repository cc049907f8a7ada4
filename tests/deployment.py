"""What the deployment files (Dockerfile, compose.yaml, deploy/) may name, and small readers for
the formats no package here parses (systemd units, Caddyfiles, env files)."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

from bot.cli import build_parser
from bot.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"

# Settings and commands that other branches of issue 15 bring (`serve` and its webhook,
# structured logs and metrics, backups). The deployment files use them already; each is struck
# from here when it arrives (test_names_still_expected_have_not_arrived says which).
# Environment names that are not mentorbot's settings, each documented by what reads it.
OTHER_ENVIRONMENT = {
    # The postgres image (https://hub.docker.com/_/postgres): the first start creates them.
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    # deploy/compose.Caddyfile reads it as {$MENTORBOT_DOMAIN}.
    "MENTORBOT_DOMAIN",
    # Python, pip and the shell.
    "PATH",
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def unknown_environment(names: set[str]) -> set[str]:
    """The names that are neither a setting nor documented elsewhere."""
    return names - setting_names() - OTHER_ENVIRONMENT


def commands() -> dict[str, argparse.ArgumentParser]:
    """The subcommands of `python -m bot`, by name."""
    parser = build_parser()
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the parser has no subcommands")


def check_bot_command(args: list[str]) -> None:
    """`args` (what follows `python -m bot`) is a command line the CLI accepts (its parser
    exits on anything else)."""
    assert args, "no command after `python -m bot`"
    assert args[0] in commands(), f"`python -m bot {args[0]}` is no command"
    build_parser().parse_args(args)


def bot_arguments(command_line: list[str]) -> list[str]:
    """What follows `-m bot` in a command line (a `sh -c '...'` is read inside)."""
    if command_line[-2:-1] == ["-c"] and Path(command_line[0]).name in {"sh", "bash"}:
        command_line = shlex.split(command_line[-1])
    for index in range(len(command_line) - 1):
        if command_line[index : index + 2] == ["-m", "bot"]:
            return command_line[index + 2 :]
    raise AssertionError(f"{command_line} does not run `python -m bot`")


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file: each section's settings in order (a key may come more than once)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: a setting before any section: {line}"
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: not key=value: {line}"
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [value for name, value in unit.get(section, []) if name == key]


def unit_command(value: str) -> list[str]:
    """An Exec*= line as the program and its arguments (`%%` is a literal `%`)."""
    return shlex.split(value.lstrip("-@:+!").replace("%%", "%"))


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines; comments and blank lines skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def caddy_sites(path: Path) -> dict[str, list[str]]:
    """A Caddyfile's site blocks: each address with the directive lines inside it."""
    sites: dict[str, list[str]] = {}
    current: list[str] | None = None
    depth = 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if depth == 0 and line.endswith("{"):
            current = sites.setdefault(line[:-1].strip(), [])
        elif current is not None and depth >= 1 and line != "}":
            current.append(line)
        depth += line.count("{") - line.count("}")
    assert depth == 0, f"{path.name}: braces do not balance"
    return sites


def reverse_proxy_upstreams(lines: list[str]) -> list[str]:
    return [
        upstream
        for line in lines
        if line.startswith("reverse_proxy ")
        for upstream in line.split()[1:]
    ]


def placeholders(text: str) -> set[str]:
    """The environment names a Caddyfile reads ({$NAME} or {$NAME:default})."""
    return set(re.findall(r"\{\$([A-Z0-9_]+)(?::[^}]*)?\}", text))
