"""The bot's resident memory after start, after 10,000 updates and after 10,000 more.

Run from the repository root (dev extras installed):

    .venv/bin/python -m benchmarks.memory --label "what changed" [--updates 10000] [--no-write]

The bot runs in a process of its own (`benchmarks.bot_process`, the code of `python -m bot
run`) on a new SQLite database in a temporary folder (deleted afterwards), unthrottled (no
flood limits at the fake server nor in the bot's limiter), so that the updates come fast. Its
resident set size (VmRSS in /proc/PID/status) is read after it started polling and after each
of two rounds of `--updates` updates, each read once every simulated person has her answer and
the bot has been quiet for a moment: `--users` mentees (20) answer the intake flat out, each
finished mentee replaced by a new one with the programme's deep link, so the database and the
number of people grow as they would over a programme's intake weeks. Only the bot's process is
measured: the fake server and the people run in this one.

Pass: the second round adds at most 10 % to the memory after the first.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.core import build_core

from .bot_process import settings_for
from .harness import (
    BENCHMARKS_MD,
    BotProcess,
    RecordingServer,
    bot_process,
    scratch_folder,
    sqlite_url,
    write_row,
)
from .people import Mentee, Wording

NAME = "memory"
GROWTH_ALLOWED = 0.10
HEADER = (
    "| date | code | machine | updates per round | after start | after round 1 "
    "| after round 2 | growth in round 2 | pass (≤ 10 %) | lost |\n"
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: |"
)
SECTION = """
## Memory

The resident memory (RSS) of the bot's process after start, after 10,000 updates and after
10,000 more: 20 mentees answering the intake flat out, each finished one replaced by a new
mentee, unthrottled, on SQLite; the fake server and the people run in another process:

    .venv/bin/python -m benchmarks.memory --label "what changed"

Options: `--updates N` (10,000 per round), `--users N` (20), `--seed N`, `--no-write`. Pass:
the second round adds at most 10 % to the memory after the first.

{table}
"""


class Crowd:
    """Mentees answering flat out; whoever finishes is replaced by a new mentee."""

    def __init__(self, server: RecordingServer, wording: Wording, users: int, seed: int) -> None:
        self.server = server
        self.wording = wording
        self.seed = seed
        self.current: list[Mentee | None] = [None] * users
        self.joined = 0
        self.lost = 0
        self.updates = 0

    async def answer(self, updates: int) -> None:
        """Send ``updates`` updates in all, each waiting for the bot's answer."""
        budget = updates

        async def worker(slot: int) -> None:
            nonlocal budget
            while budget > 0:
                budget -= 1
                mentee = self.current[slot]
                if mentee is None or mentee.finished:
                    user_id = 300_000 + self.joined
                    self.joined += 1
                    mentee = Mentee(
                        self.server, user_id, self.wording,
                        random.Random(f"{self.seed}-{user_id}"), timeout=60,
                    )  # fmt: skip
                    self.current[slot] = mentee
                    step = await mentee.start()
                else:
                    step = await mentee.step()
                self.updates += 1
                self.lost += step.latency is None

        await asyncio.gather(*(worker(slot) for slot in range(len(self.current))))


async def quiet_rss(server: RecordingServer, bot: BotProcess) -> int:
    """The bot's memory once it has answered everything and been quiet for a moment."""
    await server.wait_until_idle(timeout=60, quiet=1.0)
    return bot.rss()


async def run(updates: int = 10_000, users: int = 20, seed: int = 2026) -> dict[str, Any]:
    with scratch_folder() as folder:
        url = sqlite_url(folder)
        settings = settings_for(url, "http://127.0.0.1:9", folder)
        # Migrated and seeded before the bot starts.
        core = await build_core(settings, SystemClock())
        wording = Wording(core.catalogs)
        await core.close()
        async with (
            RecordingServer() as server,
            bot_process(server, url, folder, unthrottled=True) as bot,
        ):
            crowd = Crowd(server, wording, users, seed)
            loop = asyncio.get_running_loop()
            rss = [await quiet_rss(server, bot)]
            durations = []
            for _ in range(2):
                began = loop.time()
                await crowd.answer(updates)
                durations.append(loop.time() - began)
                rss.append(await quiet_rss(server, bot))
            violations = list(server.violations)
        errors = bot.errors()
    growth = (rss[2] - rss[1]) / rss[1]
    return {
        "updates": updates,
        "rss": rss,
        "growth": growth,
        "passed": growth <= GROWTH_ALLOWED,
        "lost": crowd.lost,
        "mentees": crowd.joined,
        "seconds": durations,
        "violations": violations,
        "bot_errors": errors,
    }


def mib(value: int) -> str:
    return f"{value / 2**20:.1f} MiB"


def report(figures: dict[str, Any]) -> list[str]:
    start, first, second = figures["rss"]
    print(
        f"RSS of the bot: after start {mib(start)}, after {figures['updates']:,} updates "
        f"{mib(first)}, after {2 * figures['updates']:,} {mib(second)}; growth in the second "
        f"round {figures['growth']:+.1%} ({'pass' if figures['passed'] else 'FAIL'}, ≤ 10 %)\n"
        f"{figures['mentees']} mentees; rounds took "
        f"{', '.join(f'{s:.0f} s' for s in figures['seconds'])}; lost {figures['lost']}; "
        f"Bot API violations {len(figures['violations'])}"
    )
    for error, count in figures["bot_errors"].items():
        print(f"  the bot's log, {count} times: {error}")
    return [
        f"{figures['updates']:,}",
        mib(start),
        mib(first),
        mib(second),
        f"{figures['growth']:+.1%}",
        "yes" if figures["passed"] else "**no**",
        str(figures["lost"]),
    ]


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--label", default="current code", help="names the row in the table")
    parser.add_argument("--updates", type=int, default=10_000, help="per round (10,000)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    parsed = parser.parse_args(argv)
    if parsed.updates < 1 or parsed.users < 1:
        parser.error("--updates and --users must be at least 1")
    if "|" in parsed.label:
        parser.error("--label cannot contain '|' (it is a table cell)")
    return parsed


def main(argv: list[str], path: Path = BENCHMARKS_MD) -> None:
    options = arguments(argv)
    figures = asyncio.run(run(options.updates, options.users, options.seed))
    cells = report(figures)
    if not options.no_write:
        write_row(path, NAME, HEADER, SECTION, options.label, cells)
        print(f"wrote the figures to {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
