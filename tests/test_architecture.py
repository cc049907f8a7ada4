"""The direction of imports (DESIGN.md): the core never loads a channel framework."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT

CORE_MODULES = [
    "bot.cli",
    "bot.core",
    "bot.conversation",
    "bot.coordination",
    "bot.course",
    "bot.language",
    "bot.language.catalog_extract",
    "bot.people",
    "bot.programmes",
    "bot.results",
    "storage.models",
    "storage.repositories",
    "storage.database",
]


def test_core_and_storage_do_not_import_aiogram_or_fastapi() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in CORE_MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'aiogram', 'fastapi'})\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_no_source_file_in_core_names_a_channel_framework() -> None:
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for folder in ("bot", "storage")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if any(
            line.lstrip().startswith((f"import {name}", f"from {name}"))
            for line in path.read_text(encoding="utf-8").splitlines()
            for name in ("aiogram", "fastapi", "handlers", "dashboard")
        )
    ]
    assert offenders == []
