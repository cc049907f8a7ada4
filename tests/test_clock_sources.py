"""Business code reads the time only through the injected clock (`bot.clock`).

The sources of bot/, handlers/, storage/ and dashboard/ are parsed (not grepped, so that
`from datetime import datetime as dt; dt.now()` is caught too) and every reference to a
wall-clock reader fails the test: `datetime.now`, `datetime.utcnow`, `datetime.today`,
`date.today`, `time.time`, `time.time_ns`, SQL's `now()`/`CURRENT_TIMESTAMP` (`func.now`,
a `server_default` that reads the database's clock) and anything named `utcnow`. The one
exception is `SystemClock.now` in bot/clock.py, the wall clock that `main()` injects. (Migration
0010 gave the programmes that existed then the database's time for their new `updated_at`; a
migration is history and is not edited, and the models, which write every row, set it.)

Monotonic timers (`time.monotonic`, the event loop's `loop.time()`) are not wall-clock reads:
they measure how long something takes (rate limits, time-outs) and say nothing of the date,
so they are allowed.
"""

from __future__ import annotations

import ast

import pytest

from bot.settings import PROJECT_ROOT

PACKAGES = ("bot", "handlers", "storage", "dashboard")
ALLOWED = {
    ("bot/clock.py", "SystemClock.now", "datetime.datetime.now"),
    *(
        ("storage/migrations/versions/0010_programme_definitions.py", "upgrade", what)
        for what in (
            "sqlalchemy.func.current_timestamp",
            "server_default=sa.func.current_timestamp()",
        )
    ),
}

# By their full names, once the module's imports are followed.
WALL_CLOCK = {
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "time.time",
    "time.time_ns",
    "sqlalchemy.func.now",
    "sqlalchemy.sql.func.now",
    "sqlalchemy.sql.functions.now",
    "sqlalchemy.func.current_timestamp",
    "sqlalchemy.sql.func.current_timestamp",
}
# As written, for a name whose import the walk cannot see (a star import, a re-export).
WALL_CLOCK_AS_WRITTEN = {
    "datetime.now",
    "datetime.utcnow",
    "datetime.today",
    "date.today",
    "func.now",
    "func.current_timestamp",
}
SQL_CLOCK = ("now", "current_timestamp", "localtimestamp")


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """Each name the module binds by an import, and the full name it stands for."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


class _Readings(ast.NodeVisitor):
    """Every wall-clock reader the module refers to, with where it is."""

    def __init__(self, tree: ast.Module) -> None:
        self.imported = _imported_names(tree)
        self.found: list[tuple[int, str, str]] = []  # line, enclosing definition, what
        self._where: list[str] = []

    def _note(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), ".".join(self._where), what))

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if node.name == "utcnow":
            self._note(node, "utcnow")
        self._where.append(node.name)
        self.generic_visit(node)
        self._where.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_alias(self, node: ast.alias) -> None:
        if "utcnow" in (node.name.split(".")[-1], node.asname):
            self._note(node, "utcnow")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "utcnow":
            self._note(node, "utcnow")
        elif self.imported.get(node.id) in WALL_CLOCK:
            self._note(node, self.imported[node.id])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        written = _dotted(node)
        if node.attr == "utcnow":
            self._note(node, written or "utcnow")
        elif written is not None:
            head, _, rest = written.partition(".")
            full = f"{self.imported.get(head, head)}.{rest}"
            if full in WALL_CLOCK or written in WALL_CLOCK_AS_WRITTEN:
                self._note(node, full if full in WALL_CLOCK else written)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg in {"server_default", "server_onupdate"}:
            source = ast.unparse(node.value).lower()
            if any(word in source for word in SQL_CLOCK):
                self._note(node.value, f"{node.arg}={ast.unparse(node.value)}")
        self.generic_visit(node)


def wall_clock_readings(source: str) -> list[tuple[int, str, str]]:
    tree = ast.parse(source)
    readings = _Readings(tree)
    readings.visit(tree)
    return readings.found


def test_only_the_system_clock_reads_the_wall_clock() -> None:
    found = set()
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            name = path.relative_to(PROJECT_ROOT).as_posix()
            for line, where, what in wall_clock_readings(path.read_text(encoding="utf-8")):
                allowed = (name, where, what) in ALLOWED
                found.add((name if allowed else f"{name}:{line}", where, what))
    assert found == ALLOWED, "read the time from the injected clock (bot/clock.py)"


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\ndatetime.now()",
        "from datetime import datetime as dt\nstamp = dt.utcnow",
        "import datetime\ndatetime.datetime.today()",
        "import datetime as d\nd.date.today()",
        "from datetime import date\ndate.today()",
        "import time\ntime.time()",
        "from time import time\ntime()",
        "from time import time_ns as ns\nns()",
        "from sqlalchemy import func\nfunc.now()",
        "import sqlalchemy as sa\nsa.func.now()",
        "from storage.models import utcnow",
        "x = mapped_column(default=utcnow)",
        "x = mapped_column(server_default=text('CURRENT_TIMESTAMP'))",
        "def utcnow(): ...",
    ],
)
def test_a_wall_clock_read_is_found_however_it_is_written(source: str) -> None:
    assert wall_clock_readings(source)


@pytest.mark.parametrize(
    "source",
    [
        "import time\ntime.monotonic()",
        "import asyncio\nasyncio.get_running_loop().time()",
        "loop.time()",
        "self.clock.now()",
        "core.clock.now()",
        "from datetime import datetime\ndatetime.fromisoformat('2026-12-01')",
        "from datetime import time\ntime(8, 0)",
        "x = mapped_column(server_default='0')",
    ],
)
def test_monotonic_timers_and_the_injected_clock_are_allowed(source: str) -> None:
    assert wall_clock_readings(source) == []
