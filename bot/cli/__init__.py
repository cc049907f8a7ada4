"""The command line: `python -m bot` and its command groups."""

from __future__ import annotations

from bot.cli.commands import build_parser, cmd_export, main
from bot.cli.demo_data import DEMO_EMAIL, DEMO_PASSWORD, DemoError, seed_demo

__all__ = [
    "DEMO_EMAIL",
    "DEMO_PASSWORD",
    "DemoError",
    "build_parser",
    "cmd_export",
    "main",
    "seed_demo",
]
