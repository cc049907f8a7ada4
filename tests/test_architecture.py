"""The shape of the code (docs/ARCHITECTURE.md): the layers and package boundaries that
import-linter checks, a core that never loads a channel framework, and rooms of a size one can
read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT

SOURCE_FOLDERS = ("bot", "handlers", "dashboard", "storage", "tests", "benchmarks")
MAX_FILE_LINES = 500
MAX_CLASS_LINES = 350
MAX_TOP_LEVEL_MODULES = 12

CORE_MODULES = [
    "bot.cli",
    "bot.core",
    "bot.inbox",
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
    "storage.inbox",
    "storage.database",
]


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCE_FOLDERS
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        if "vendor" not in path.parts
    ]


def test_the_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]): channels above the core above
    storage, the capability packages in their layers and used through their __init__, no
    import cycle, no channel framework in the core."""
    code = "import sys, importlinter.cli as c; sys.exit(c.lint_imports(no_cache=1, no_logo=1))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_core_and_storage_do_not_import_aiogram_or_fastapi() -> None:
    """At run time too: the command line loads the channels with importlib, so the contracts
    alone cannot see it."""
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


def test_no_source_file_is_longer_than_a_reader_can_hold() -> None:
    too_long = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in _sources()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert too_long == {}


def test_no_class_is_longer_than_a_reader_can_hold() -> None:
    too_long = {
        f"{path.relative_to(PROJECT_ROOT)}:{node.name}": size
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and (size := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_CLASS_LINES
    }
    assert too_long == {}


def test_bot_is_capability_packages_with_few_modules_beside_them() -> None:
    top_level = sorted(path.name for path in (PROJECT_ROOT / "bot").glob("*.py"))
    packages = sorted(path.parent.name for path in (PROJECT_ROOT / "bot").glob("*/__init__.py"))
    assert len(top_level) <= MAX_TOP_LEVEL_MODULES, top_level
    assert packages == [
        "cli",
        "conversation",
        "coordination",
        "course",
        "language",
        "matching",
        "people",
        "programmes",
        "results",
    ]
