"""Answers per second flat out: many mentees answering the intake as fast as the bot replies,
on SQLite and on PostgreSQL, beside an aiogram echo bot against the same fake server.

Run from the repository root (dev extras installed; as root with PostgreSQL's server programs
installed, or with --database-url):

    .venv/bin/python -m benchmarks.throughput --label "what changed" [--no-write]

Each measurement starts the bot in a process of its own (`benchmarks.bot_process`, the code of
`python -m bot run`) on an empty database, lets `--users` people (50) answer flat out: each
answers a question the moment it arrives, and whoever finishes the intake is replaced by a
new mentee with the deep link. After `--warmup` seconds (5) it counts for `--seconds` (20) the
answers that arrived (an update answered: a question, a tick, the closing message) and the
message-sending Bot API calls the fake server accepted (the calls flood control counts).

Twice per bot: with Telegram's limits (the fake refuses more than 30 messages a second, the bot
keeps to them with its own limiter, as in production), and unthrottled (no limit at the fake
and `create_bot(per_second=inf, per_chat_per_second=inf)`), which shows what the processor
could do. The echo bot answers each text with one message through the bot's own `create_bot`
(the same retry and limiter), the ceiling of aiogram, the limiter and the fake.

PostgreSQL: a throwaway cluster as .ci/run starts one (initdb in a temporary folder as the
postgres user, 127.0.0.1:54361, fsync off), stopped and deleted afterwards; or give
`--database-url postgresql+asyncpg://…` of a database whose public schema may be emptied.
`--no-postgres` leaves PostgreSQL out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.core import build_core

from .bot_process import settings_for
from .harness import (
    BENCHMARKS_MD,
    RecordingServer,
    bot_process,
    empty_postgres,
    postgres_cluster,
    scratch_folder,
    sqlite_url,
    write_row,
)
from .people import Chatter, Mentee, Person, Wording

NAME = "throughput"
HEADER = (
    "| date | code | machine | SQLite | PostgreSQL | echo bot | calls per answer (SQLite; "
    "PostgreSQL; echo) | unthrottled: SQLite; PostgreSQL; echo | lost (SQLite; PostgreSQL; "
    "echo) | flood refusals |\n"
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)
SECTION = """
## Answers per second, flat out

50 mentees answer the intake as fast as the bot replies (each finished mentee replaced by a new
one), on SQLite and on PostgreSQL, beside an aiogram echo bot against the same fake Bot API
server; with Telegram's 30 messages a second (the bot's own limiter keeping to them), and
unthrottled, which shows what the processor could do:

    .venv/bin/python -m benchmarks.throughput --label "what changed"

Options: `--users N` (50), `--seconds S` (20, after `--warmup` 5), `--seed N`,
`--database-url URL` (a PostgreSQL database to empty and use instead of a throwaway cluster on
port 54361; that one needs root and PostgreSQL's server programs), `--no-postgres`,
`--no-write`. An answer is an update answered (the next question, a tick, the closing message);
calls per answer are the message-sending Bot API calls (those flood control counts) over them.

{table}
"""
TARGETS = ("sqlite", "postgresql", "echo")


@dataclass
class Tally:
    """What happened inside the counted window."""

    opens: float
    closes: float
    answers: int = 0
    lost: int = 0
    latencies: list[float] = field(default_factory=list)

    def note(self, began: float, latency: float | None) -> None:
        if latency is None:
            self.lost += 1
        elif self.opens <= began + latency < self.closes:
            self.answers += 1
            self.latencies.append(latency)


async def flat_out(
    server: RecordingServer,
    wording: Wording | None,
    users: int,
    warmup: float,
    seconds: float,
    seed: int,
) -> dict[str, Any]:
    """People answering as fast as the bot replies; mentees (echo chatters without wording)."""
    loop = asyncio.get_running_loop()
    opens = loop.time() + warmup
    tally = Tally(opens, opens + seconds)

    async def person(worker: int, number: int) -> Person:
        user_id = 100_000 + worker * 10_000 + number
        if wording is None:
            return Chatter(server, user_id, timeout=60)
        mentee = Mentee(server, user_id, wording, random.Random(f"{seed}-{user_id}"), 60)
        began = loop.time()
        tally.note(began, (await mentee.start()).latency)
        return mentee

    async def worker(number: int) -> None:
        people = 0
        while loop.time() < tally.closes:
            someone = await person(number, people)
            people += 1
            while not someone.finished and loop.time() < tally.closes:
                began = loop.time()
                tally.note(began, (await someone.step()).latency)

    async def calls_at(moment: float) -> int:
        await asyncio.sleep(moment - loop.time())
        return server.flood_controlled

    counted = asyncio.gather(calls_at(tally.opens), calls_at(tally.closes))
    await asyncio.gather(*(worker(n) for n in range(users)))
    first, last = await counted
    return {
        "answers_per_second": tally.answers / seconds,
        "answers": tally.answers,
        "calls": last - first,
        "calls_per_answer": (last - first) / tally.answers if tally.answers else float("nan"),
        "lost": tally.lost,
        "flood_refusals": len(server.flood_rejections),
        "violations": list(server.violations),
    }


async def measure(
    target: str, database_url: str, folder: Path, wording: Wording, options: argparse.Namespace,
    *, limited: bool,
) -> dict[str, Any]:  # fmt: skip
    if target == "postgresql":
        await empty_postgres(database_url)
    async with RecordingServer() as server:
        if limited:
            server.limit_like_telegram()
        echo = target == "echo"
        async with bot_process(
            server, database_url, folder, unthrottled=not limited, echo=echo
        ) as bot:
            figures = await flat_out(
                server, None if echo else wording, options.users, options.warmup,
                options.seconds, options.seed,
            )  # fmt: skip
        return figures | {"bot_errors": bot.errors()}


@contextlib.contextmanager
def postgres(options: argparse.Namespace) -> Iterator[str | None]:
    if options.no_postgres:
        yield None
    elif options.database_url:
        yield options.database_url
    else:
        with postgres_cluster() as url:
            yield url


async def run(options: argparse.Namespace, postgres_url: str | None) -> dict[str, Any]:
    """Every target in both modes: {target: {"limited": figures, "unthrottled": figures}}."""
    results: dict[str, Any] = {}
    with scratch_folder() as folder:
        template = settings_for(sqlite_url(folder), "http://127.0.0.1:9", folder)
        core = await build_core(template, SystemClock())
        wording = Wording(core.catalogs)
        await core.close()
        for target in TARGETS:
            if target == "postgresql" and postgres_url is None:
                continue
            results[target] = {}
            for limited in (True, False):
                mode = "limited" if limited else "unthrottled"
                url = postgres_url if target == "postgresql" else (
                    f"sqlite+aiosqlite:///{folder / f'{target}-{mode}.db'}"
                )  # fmt: skip
                assert url is not None
                figures = await measure(target, url, folder, wording, options, limited=limited)
                results[target][mode] = figures
                print(
                    f"{target}, {mode}: {figures['answers_per_second']:.1f} answers/s "
                    f"({figures['answers']} in {options.seconds:g} s), "
                    f"{figures['calls_per_answer']:.2f} calls per answer, lost "
                    f"{figures['lost']}, flood refusals {figures['flood_refusals']}, "
                    f"violations {len(figures['violations'])}",
                    flush=True,
                )
                for error, count in figures["bot_errors"].items():
                    print(f"  the bot's log, {count} times: {error}")
    return results


def cells(results: dict[str, Any]) -> list[str]:
    def figure(target: str, mode: str, key: str, form: str) -> str:
        found = results.get(target, {}).get(mode)
        return "–" if found is None else format(found[key], form)

    rate = [figure(t, "limited", "answers_per_second", ".1f") + "/s" for t in TARGETS]
    per = "; ".join(figure(t, "limited", "calls_per_answer", ".2f") for t in TARGETS)
    free = "; ".join(figure(t, "unthrottled", "answers_per_second", ".1f") + "/s" for t in TARGETS)
    lost = "; ".join(
        str(sum(f["lost"] for f in results[t].values())) if t in results else "–" for t in TARGETS
    )
    every = [figures for modes in results.values() for figures in modes.values()]
    refusals = sum(figures["flood_refusals"] for figures in every)
    return [*rate, per, free, lost, str(refusals)]


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    parser.add_argument("--label", default="current code", help="names the row in the table")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="a PostgreSQL database to empty and use")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    parsed = parser.parse_args(argv)
    if parsed.users < 1 or parsed.seconds <= 0 or parsed.warmup < 0:
        parser.error("--users and --seconds must be positive, --warmup not negative")
    if parsed.database_url and not parsed.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    if "|" in parsed.label:
        parser.error("--label cannot contain '|' (it is a table cell)")
    return parsed


def main(argv: list[str], path: Path = BENCHMARKS_MD) -> None:
    options = arguments(argv)
    with postgres(options) as url:
        results = asyncio.run(run(options, url))
    row = cells(results)
    if not options.no_write:
        write_row(path, NAME, HEADER, SECTION, options.label, row)
        print(f"wrote the figures to {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
