"""The load benchmarks (benchmarks/) in a tiny size: each scenario runs to the end and yields
every figure, with no question lost. Only the structure is checked, never a time: the figures
belong to the machine, and BENCHMARKS.md to the full runs."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks import meeting, memory, throughput


def _numbers(*values: object) -> bool:
    return all(isinstance(v, int | float) and not math.isnan(v) for v in values)


async def test_information_meeting_in_small() -> None:
    figures = await meeting.run(mentees=3, pace=(0.0, 0.0), give_up_after=30)

    assert figures["finished"] == 3 and figures["lost"] == 0
    assert figures["first"]["count"] == 3
    for key in ("p50", "p95", "max"):
        assert _numbers(figures["first"][key], figures["answers"][key])
        assert _numbers(figures["telegram_bound"][key], figures["limiter_bound"][key])
        assert _numbers(figures["answers_bound"][key])
    assert figures["kinds"]["start"] == 3 and figures["kinds"]["typed"] >= 3  # the name, at least
    assert figures["calls"] > figures["updates"] / 2 and _numbers(figures["calls_per_update"])
    assert figures["flood_refusals"] == 0 and figures["violations"] == []


def test_the_least_wait_of_an_answer_counts_only_telegrams_30_a_second() -> None:
    from benchmarks.people import Step

    crowd = [Step("start", 0.0, at=0.0)] + [Step("tap", 0.5, at=0.25) for _ in range(31)]
    late = Step("tap", 0.1, at=5.0)
    waits = meeting.least_waits([*crowd, late])
    # The /start and 29 answers go in the first second; each of the last two, a second after
    # the call 30 places before it.
    assert waits[:29] == [0.0] * 29
    assert waits[29:31] == [0.75, 1.0] and waits[31] == 0.0


async def test_flat_out_answers_in_small() -> None:
    options = throughput.arguments(
        ["--users", "2", "--seconds", "2", "--warmup", "0", "--no-postgres", "--no-write"]
    )
    results = await throughput.run(options, postgres_url=None)

    assert set(results) == {"sqlite", "echo"}
    for modes in results.values():
        assert set(modes) == {"limited", "unthrottled"}
        for figures in modes.values():
            assert figures["answers"] > 0 and figures["lost"] == 0
            assert _numbers(figures["answers_per_second"], figures["calls_per_answer"])
            assert figures["violations"] == []
    assert len(throughput.cells(results)) == 7


async def test_memory_in_small() -> None:
    figures = await memory.run(updates=50, users=3)

    start, first, second = figures["rss"]
    assert all(isinstance(rss, int) and rss > 0 for rss in (start, first, second))
    assert figures["lost"] == 0 and figures["mentees"] >= 3
    assert _numbers(figures["growth"]) and isinstance(figures["passed"], bool)


def test_a_row_goes_into_its_own_table_and_replaces_the_one_with_its_label(
    tmp_path: Path,
) -> None:
    from benchmarks.harness import write_row

    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nIntro.\n", encoding="utf-8")
    header = "| date | code | machine | x |\n| --- | --- | --- | ---: |"
    section = "\n## Thing\n\n{table}\n"

    write_row(path, "thing", header, section, "before", ["1"])
    write_row(path, "thing", header, section, "after", ["2"])
    write_row(path, "thing", header, section, "before", ["3"])

    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nIntro.\n\n## Thing\n\n<!-- benchmarks.thing: begin -->")
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert [row.split("|")[2].strip() for row in rows] == ["before", "after"]
    assert [row.split("|")[-2].strip() for row in rows] == ["3", "2"]
