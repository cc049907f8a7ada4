"""The command line: `python -m bot` and its command groups."""

from __future__ import annotations

from bot.cli.demo import demo_settings
from bot.cli.demo_data import DEMO_EMAIL, DEMO_PASSWORD, DemoError, open_demo, seed_demo
from bot.cli.parser import build_parser, main
from bot.cli.results import cmd_export

__all__ = [
    "DEMO_EMAIL",
    "DEMO_PASSWORD",
    "DemoError",
    "build_parser",
    "cmd_export",
    "demo_settings",
    "main",
    "open_demo",
    "seed_demo",
]
