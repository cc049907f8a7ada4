"""Content files read once per version in a process.

Building the core reads every questionnaire, danger list and catalog (about 0.2 s). A process
that builds it again and again (the test suite builds one per test, the demo one for the bot
and one for the dashboard) reads a file again only when it changed: the result is kept under
the file's resolved path, size and modification time. Only for readers whose result is never
changed afterwards (frozen models, tuples, bytes); a reader that fails keeps nothing, so a
broken file fails again the next time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_Key = tuple[Path, int, int, tuple[object, ...]]


def read_once_per_version(
    read: Callable[Concatenate[Path, P], T],
) -> Callable[Concatenate[Path, P], T]:
    kept: dict[_Key, T] = {}

    def cached(path: Path, /, *args: P.args, **kwargs: P.kwargs) -> T:
        stat = path.stat()
        key = (path.resolve(), stat.st_mtime_ns, stat.st_size, (*args, *sorted(kwargs.items())))
        if key not in kept:
            kept[key] = read(path, *args, **kwargs)
        return kept[key]

    return cached
