"""The information meeting: many mentees scan the flyer's QR code at once and answer the intake
at a person's pace, through the fake Bot API server with Telegram's 30 messages a second.

Run from the repository root (dev extras installed):

    .venv/bin/python -m benchmarks.meeting --label "what changed" [--mentees 100] [--no-write]

Every mentee sends /start with the programme's deep link at the same moment, then answers each
question 3 to 5 s after it arrived (a seeded draw per mentee: `--seed`, `--pace`), tapping or
typing whatever the question asks (benchmarks/people.py), until the intake's closing message.
The bot runs as `python -m bot run` does, in a process of its own, on a new SQLite database in
a temporary folder (deleted afterwards); the fake server counts Telegram's 30 messages a second
per bot (its per-chat spacing is off: Telegram lets the bot's short bursts to one chat through).

Figures, all from the fake server's clock (when an update was queued, when the bot's message
arrived): the first reply to the simultaneous /start, beside the least Telegram's limit allows
(the k-th of n replies cannot arrive before floor((k - 1) / 30) s) and the least the bot's own
limiter allows; the steady-state answer latency (each later tap or text to the arrival of the
next question); lost steps (no answer within --timeout); flood-controlled Bot API calls per
update; calls refused by the fake's flood control. Target: p50 and p95 under 1 s, none lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sys
from collections import deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bot.clock import SystemClock
from bot.core import Core, build_core
from handlers.telegram.app import create_bot
from handlers.telegram.rate_limit import RateLimitMiddleware

from .bot_process import settings_for
from .harness import (
    BENCHMARKS_MD,
    TELEGRAM_PER_SECOND,
    RecordingServer,
    bot_process,
    empty_postgres,
    postgres_cluster,
    scratch_folder,
    seconds,
    sqlite_url,
    summary,
    write_row,
)
from .people import Mentee, Step, Wording

NAME = "meeting"
HEADER = (
    "| date | code | machine | mentees | first reply p50 / p95 / max | least possible "
    "(Telegram; the bot's limiter) | answers p50 / p95 / max | lost | calls per update "
    "| flood refusals |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)
SECTION = """
## Information meeting

100 mentees start at once with the programme's deep link and answer the intake at a person's
pace (a tap or a typed answer 3 to 5 s after each question), through the fake Bot API server
with Telegram's 30 messages a second; the bot in a process of its own, on SQLite or PostgreSQL:

    .venv/bin/python -m benchmarks.meeting --label "what changed"

Options: `--mentees N` (100), `--pace MIN MAX` (3 5 seconds), `--seed N`, `--timeout S` (60: a
step unanswered that long is lost; so is one the bot answers with "something went wrong"),
`--postgres` (on a throwaway PostgreSQL cluster, as `benchmarks.throughput` starts one) or
`--database-url URL` (a PostgreSQL database to empty and use), `--no-write`. Times run from the
update's arrival at the fake server to the arrival of the bot's next question there. "Least
possible": the k-th of n replies to the simultaneous /start cannot arrive before
floor((k - 1) / 30) s under Telegram's limit, nor before floor((k - 1) / 30) windows of the bot's
own limiter (1.25 s: a second and a margin for the trip). Calls per update: message-sending
calls (the ones flood control counts) over the updates the mentees sent. Target: p50 and p95
under 1 s, none lost.

{table}
"""


def least_possible(count: int, share: float, window: float) -> float:
    """When the reply at this percentile can arrive at the earliest, at TELEGRAM_PER_SECOND
    replies per ``window`` seconds (nearest rank, as ``summary``)."""
    rank = max(1, math.ceil(share * count))
    return (rank - 1) // TELEGRAM_PER_SECOND * window


def least_waits(steps: list[Step], per_second: int = TELEGRAM_PER_SECOND) -> list[float]:
    """For each answer (not /start), the least it could have waited for its next question had
    the bot taken no time at all: every reply's first call (the one a person waits for) goes
    out first come, first served, no more than ``per_second`` in any one second. The clean-up
    calls and the per-chat limit are left out, so this is a bound no bot can beat."""
    window: deque[float] = deque(maxlen=per_second)
    waits = []
    last = -math.inf
    for step in sorted(steps, key=lambda s: s.at):
        slot = max(step.at, last)
        if len(window) == per_second:
            slot = max(slot, window[0] + 1.0)
        window.append(slot)
        last = slot
        if step.kind != "start":
            waits.append(slot - step.at)
    return waits


def limiter_window(settings: Any) -> float:
    """The one-second window of the bot's limiter, widened by its margin, as create_bot
    builds it."""
    bot = create_bot(cast(Core, SimpleNamespace(settings=settings)))
    limiter = next(m for m in bot.session.middleware if isinstance(m, RateLimitMiddleware))
    return float(limiter._window)


async def live(mentee: Mentee, pace: tuple[float, float]) -> list[Step]:
    steps = [await mentee.start()]
    while not mentee.finished:
        await asyncio.sleep(mentee.rng.uniform(*pace))
        steps.append(await mentee.step())
    return steps


async def run(
    mentees: int = 100,
    pace: tuple[float, float] = (3.0, 5.0),
    seed: int = 2026,
    give_up_after: float = 60.0,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Run the meeting (on a new SQLite database, or on this PostgreSQL one, emptied first)
    and return its figures."""
    with scratch_folder() as folder:
        url = database_url or sqlite_url(folder)
        if database_url is not None:
            await empty_postgres(database_url)
        settings = settings_for(url, "http://127.0.0.1:9", folder)
        # Migrated and seeded before the bot starts.
        core = await build_core(settings, SystemClock())
        wording = Wording(core.catalogs)
        await core.close()
        window = limiter_window(settings)
        async with RecordingServer() as server:
            server.limit_like_telegram()
            async with bot_process(server, url, folder) as bot:
                people = [
                    Mentee(server, 20_000 + n, wording, random.Random(f"{seed}-{n}"), give_up_after)
                    for n in range(mentees)
                ]
                calls_before = server.flood_controlled
                lives = await asyncio.gather(*(live(mentee, pace) for mentee in people))
                calls = server.flood_controlled - calls_before
            refusals = len(server.flood_rejections)
            errors = bot.errors()
            violations = list(server.violations)
    steps = [step for steps in lives for step in steps]
    first = [s.latency for s in steps if s.kind == "start" and s.latency is not None]
    later = [s.latency for s in steps if s.kind != "start" and s.latency is not None]
    return {
        "mentees": mentees,
        "finished": sum(1 for m in people if m.finished and not m.lost),
        "first": summary(first),
        "telegram_bound": {
            share: least_possible(mentees, p, 1.0) for share, p in (("p50", 0.5), ("p95", 0.95))
        }
        | {"max": least_possible(mentees, 1.0, 1.0)},
        "limiter_bound": {
            share: least_possible(mentees, p, window) for share, p in (("p50", 0.5), ("p95", 0.95))
        }
        | {"max": least_possible(mentees, 1.0, window)},
        "answers": summary(later),
        "answers_bound": summary(least_waits(steps)),
        "kinds": {
            kind: sum(1 for s in steps if s.kind == kind)
            for kind in sorted({s.kind for s in steps})
        },
        "updates": len(steps),
        "lost": sum(1 for s in steps if s.latency is None),
        "calls": calls,
        "calls_per_update": calls / len(steps) if steps else math.nan,
        "flood_refusals": refusals,
        "violations": violations,
        "lost_steps": [s.evidence for s in steps if s.latency is None],
        "error_replies": sum(1 for s in steps if s.error_reply),
        "bot_errors": errors,
    }


def three(figures: dict[str, float]) -> str:
    return " / ".join(seconds(figures[key]) for key in ("p50", "p95", "max"))


def report(figures: dict[str, Any]) -> list[str]:
    """The table's cells, printed too."""
    first, answers = figures["first"], figures["answers"]
    bounds = f"{three(figures['telegram_bound'])}; {three(figures['limiter_bound'])}"
    print(
        f"{figures['mentees']} mentees, {figures['finished']} finished the intake; "
        f"{figures['updates']} updates ({figures['kinds']})\n"
        f"first reply to /start: p50/p95/max {three(first)} "
        f"(least possible under Telegram's 30/s: {three(figures['telegram_bound'])}; "
        f"under the bot's limiter: {three(figures['limiter_bound'])})\n"
        f"answers (steady state, {answers['count']}): p50/p95/max {three(answers)} "
        f"(least possible, the same moments under Telegram's 30/s: "
        f"{three(figures['answers_bound'])})\n"
        f"lost: {figures['lost']} ({figures['error_replies']} answered 'something went wrong'); "
        f"flood-controlled calls: {figures['calls']} "
        f"({figures['calls_per_update']:.2f} per update); flood refusals: "
        f"{figures['flood_refusals']}; Bot API violations: {len(figures['violations'])}"
    )
    for evidence in figures["lost_steps"]:
        print(f"  lost: {evidence}")
    for error, count in figures["bot_errors"].items():
        print(f"  the bot's log, {count} times: {error}")
    return [
        str(figures["mentees"]),
        three(first),
        bounds,
        three(answers),
        f"{figures['lost']} ({figures['error_replies']} errors); {figures['finished']} finished",
        f"{figures['calls_per_update']:.2f}",
        str(figures["flood_refusals"]),
    ]


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.meeting", description=__doc__)
    parser.add_argument("--label", default="current code", help="names the row in the table")
    parser.add_argument("--mentees", type=int, default=100)
    parser.add_argument("--pace", type=float, nargs=2, default=(3.0, 5.0), metavar=("MIN", "MAX"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL")
    parser.add_argument("--database-url", help="on this PostgreSQL database (emptied)")
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    parsed = parser.parse_args(argv)
    if parsed.mentees < 1:
        parser.error("--mentees must be at least 1")
    if "|" in parsed.label:
        parser.error("--label cannot contain '|' (it is a table cell)")
    return parsed


def main(argv: list[str], path: Path = BENCHMARKS_MD) -> None:
    options = arguments(argv)
    with contextlib.ExitStack() as stack:
        url = options.database_url
        if options.postgres and url is None:
            url = stack.enter_context(postgres_cluster())
        figures = asyncio.run(
            run(options.mentees, tuple(options.pace), options.seed, options.timeout, url)
        )
    cells = report(figures)
    if not options.no_write:
        write_row(path, NAME, HEADER, SECTION, options.label, cells)
        print(f"wrote the figures to {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
