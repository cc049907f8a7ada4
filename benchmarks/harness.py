"""What the load benchmarks share: the fake Bot API server that notes when each message
arrives, the bot in a process of its own, the databases, percentiles and the tables.

The fake server (tests/fakes/bot_api) runs in the benchmark's process with the simulated people;
the bot runs in a child process (`benchmarks.bot_process`), as it runs in production: its memory
is its own, and its processor time is not the fake's. Every time is the fake server's event-loop
clock: when an update was queued for the bot, and when a message-sending call was accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.settings import PROJECT_ROOT
from storage.database import create_engine
from tests.fakes.bot_api import FLOOD_CONTROLLED_METHODS, JSON, FakeBotAPI

BENCHMARKS_MD = PROJECT_ROOT / "BENCHMARKS.md"
POSTGRES_PORT = 54361
TELEGRAM_PER_SECOND = 30
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Timeout\w*)(: |$)")
FLOOD_TOLERANCE = 0.1
"""Seconds the fake forgives on its one-second window: the bot's limiter counts a call when it
sends it, the fake when it arrives (tests/test_dispatch_telegram.py uses the same)."""


@dataclass
class Delivery:
    """A message-sending call the fake accepted: when, in which chat, what it showed."""

    at: float
    method: str
    chat_id: int
    message_id: int
    text: str
    buttons: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass
class ChatLog:
    """The deliveries to one chat not yet consumed by its simulated person."""

    deliveries: list[Delivery] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class RecordingServer(FakeBotAPI):
    """The fake Bot API server, noting each accepted message-sending call per chat.

    ``flood_controlled`` counts the calls Telegram's flood control counts (accepted ones only:
    a refused call is retried and counted when it gets through).
    """

    def __init__(self) -> None:
        super().__init__()
        self.chats: dict[int, ChatLog] = {}
        self.flood_controlled = 0
        for name in FLOOD_CONTROLLED_METHODS & set(self._handlers):
            self._handlers[name] = self._recorded(name, self._handlers[name])

    def _recorded(self, method: str, handler: Any) -> Any:
        async def recorded(params: JSON) -> Any:
            result = await handler(params)
            self.flood_controlled += 1
            message = result if isinstance(result, dict) else {}
            markup = params.get("reply_markup")
            rows = markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []
            chat_id = int(params.get("chat_id", 0))
            log = self.chats.setdefault(chat_id, ChatLog())
            log.deliveries.append(
                Delivery(
                    at=asyncio.get_running_loop().time(),
                    method=method,
                    chat_id=chat_id,
                    message_id=int(params.get("message_id") or message.get("message_id") or 0),
                    text=str(params.get("text") or ""),
                    buttons=tuple(str(b.get("callback_data")) for row in rows for b in row),
                    labels=tuple(str(b.get("text")) for row in rows for b in row),
                )
            )
            log.changed.set()
            return result

        return recorded

    def chat(self, chat_id: int) -> ChatLog:
        return self.chats.setdefault(chat_id, ChatLog())

    def limit_like_telegram(self) -> None:
        """Telegram's 30 messages a second per bot. The fake's per-chat check is strict spacing
        (one a second, no burst), while Telegram lets a short burst to one chat through and the
        bot sends one (an answer's edit and the next question, at most 4 in 4 s); it is off."""
        self.enforce_flood_limits(
            per_second=TELEGRAM_PER_SECOND, per_chat_per_second=None, tolerance=FLOOD_TOLERANCE
        )

    def seen(self, method: str) -> int:
        return sum(1 for call in self.calls if call.method == method)


async def wait_until(predicate: Any, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise RuntimeError(f"{what} after {within} s")
        await asyncio.sleep(0.05)


@dataclass
class BotProcess:
    pid: int
    log: Path

    def errors(self) -> dict[str, int]:
        """The exceptions in the bot's output (its log level is WARNING), counted by their last
        line and the SQL statement named under it, if any."""
        found: Counter[str] = Counter()
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines):
            if EXCEPTION_LINE.match(line):
                following = lines[number + 1] if number + 1 < len(lines) else ""
                sql = f" {following[:100]}" if following.startswith("[SQL:") else ""
                found[line[:160] + sql] += 1
        return dict(found.most_common())

    def rss(self) -> int:
        """Resident memory of the bot's process in bytes (VmRSS in /proc/PID/status)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for the bot's process")


@contextlib.asynccontextmanager
async def bot_process(
    server: RecordingServer,
    database_url: str,
    folder: Path,
    *,
    unthrottled: bool = False,
    echo: bool = False,
) -> AsyncIterator[BotProcess]:
    """The bot polling ``server`` from a child process, until it is stopped by SIGTERM."""
    log = folder / ("echo.log" if echo else "bot.log")
    command = [
        sys.executable, "-m", "benchmarks.bot_process", "--database-url", database_url,
        "--api-base-url", server.base_url, "--folder", str(folder),
    ]  # fmt: skip
    command += ["--unthrottled"] * unthrottled + ["--echo"] * echo
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    polls = server.seen("getUpdates")
    with log.open("wb") as output:
        child = await asyncio.create_subprocess_exec(
            *command, cwd=folder, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        await wait_until(
            lambda: server.seen("getUpdates") > polls or child.returncode is not None,
            60,
            "the bot did not start polling",
        )
        if child.returncode is not None:
            raise RuntimeError(f"the bot stopped: {log.read_text(errors='replace')[-2000:]}")
        yield BotProcess(child.pid, log)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.wait(), 30)
            except TimeoutError:
                child.kill()
                await child.wait()


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mentorbot-benchmark-") as folder:
        yield Path(folder)


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'benchmark.db'}"


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster as .ci/run starts one (owned by the postgres user, on
    127.0.0.1:54361, fsync off), stopped and deleted afterwards. Needs root and PostgreSQL's
    server programs; otherwise give --database-url."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise RuntimeError("no PostgreSQL server in /usr/lib/postgresql; give --database-url")
    binaries = found[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="mentorbot-benchmark-pg-"))
    data = folder / "data"

    def as_postgres(program: str, *arguments: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(binaries / program), *arguments],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    try:
        shutil.chown(folder, "postgres")
        as_postgres("initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={POSTGRES_PORT} "
            f"-c unix_socket_directories={folder} -c fsync=off"
        )
        as_postgres("pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options,
                    "start")  # fmt: skip
        try:
            as_postgres("createdb", "-h", "127.0.0.1", "-p", str(POSTGRES_PORT), "-U", "postgres",
                        "mentorbot_benchmark")  # fmt: skip
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{POSTGRES_PORT}/mentorbot_benchmark"
        finally:
            as_postgres("pg_ctl", "-D", str(data), "-m", "fast", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def empty_postgres(url: str) -> None:
    """Drop everything in the database's public schema: each measurement starts empty."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 < share <= 1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else math.nan,
    }


def machine() -> str:
    """Cores, memory and Python: what the figures depend on."""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {total_kib / 2**20:.0f} GiB"
    return (
        f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def write_row(
    path: Path, name: str, header: str, section: str, label: str, cells: list[str]
) -> None:
    """Put a row (date, label, machine, cells) into the table of benchmark ``name``, replacing
    the row with the same label; the section (its text with {table}) is added when missing."""
    begin, end = f"<!-- benchmarks.{name}: begin -->", f"<!-- benchmarks.{name}: end -->"
    row = "| " + " | ".join([date.today().isoformat(), label, machine(), *cells]) + " |"
    text = path.read_text(encoding="utf-8")
    if begin not in text:
        table = f"{begin}\n{header}\n{end}"
        text = text.rstrip("\n") + "\n" + section.format(table=table)
    before, rest = text.split(begin, 1)
    table, after = rest.split(end, 1)
    lines = [line for line in table.strip().splitlines() if line.startswith("|")]
    head, rows = lines[:2], lines[2:]
    labels = [line.split("|")[2].strip() for line in rows]
    if label in labels:
        rows[labels.index(label)] = row
    else:
        rows.append(row)
    path.write_text(
        before + begin + "\n" + "\n".join(head + rows) + "\n" + end + after, encoding="utf-8"
    )


def seconds(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f} s"
