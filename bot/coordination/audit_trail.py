"""Writing the audit log: who did what, when, and which programme it concerned. Every entry
says its programme, or that it is about an account and no programme (a log-in, a lock, a
password): who may read an entry follows from that (`administration.audit_log`).
Channel-neutral."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from storage.days import today_only
from storage.models import AuditEntry, Coordinator, Flag


async def audit(
    session: AsyncSession,
    coordinator: Coordinator | None,
    action: str,
    *,
    programme_id: int | None,
    flag: Flag | None = None,
    detail: str | None = None,
    participant_id: int | None = None,
) -> None:
    """Who did what, when, in which programme. `coordinator` None: the operator at the command
    line. `programme_id` None only where the programme is not known (a flag or a person with
    none): such an entry is shown to site owners only."""
    if flag is not None and flag.programme_id != programme_id:
        raise ValueError(f"flag {flag.id} is of programme {flag.programme_id}, not {programme_id}")
    entry = AuditEntry(
        coordinator_id=coordinator.id if coordinator else None,
        action=action,
        programme_id=programme_id,
        flag_id=flag.id if flag else None,
        participant_id=flag.participant_id if flag else participant_id,
        detail=detail,
    )
    if flag is not None and flag.anonymous:
        # Kept to the day: when a coordinator acted on an anonymous flag tells when, at the
        # latest, the answer came (storage/days.py).
        entry.at = await today_only(session, flag.programme_id)
    session.add(entry)
    await session.flush()


async def audit_each(
    session: AsyncSession,
    coordinator: Coordinator | None,
    action: str,
    details: Mapping[int, str],
) -> None:
    """One entry per programme that a page, a list or a file covered (programme id -> what
    it covered of that programme), so that each programme's log says only its own part."""
    for programme_id, detail in sorted(details.items()):
        await audit(session, coordinator, action, programme_id=programme_id, detail=detail)


def counted(programme_ids: Iterable[int], found: Iterable[int | None], what: str) -> dict[int, str]:
    """For `audit_each`: `what` with the count of the items found in each programme, e.g.
    counted({1, 2}, [1, 1], "{count} open flags") -> {1: "2 open flags", 2: "0 open flags"}."""
    counts = Counter(found)
    return {programme_id: what.format(count=counts[programme_id]) for programme_id in programme_ids}


async def audit_account(
    session: AsyncSession,
    actor: Coordinator | None,
    action: str,
    account: Coordinator | None = None,
    detail: str | None = None,
) -> None:
    """An event of an account and of no programme: a log-in, a lock, a password, a reset.
    `account` is the account it is about (the actor's own when not given); `actor` None: the
    operator at the command line."""
    about = account or actor
    if about is None:
        raise ValueError("an account event needs the account it is about")
    session.add(
        AuditEntry(
            coordinator_id=actor.id if actor else None,
            action=action,
            account_id=about.id,
            detail=detail,
        )
    )
    await session.flush()
