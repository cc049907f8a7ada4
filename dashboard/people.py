"""Participants, matches and the schedule: the list with search and filters, a participant's
timeline, the pairs with their check-ins (make and end a match), and the week's contacts.

Thin: the lists, the timeline and the rules come from `bot.participants`,
`bot.match_overview`, `bot.schedule_view` and `bot.course`; every lookup goes through the
coordinator's own programmes, so another programme's participant or match is "not found".
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import coordination, results
from bot.course import MatchError, finish_match, make_match, own_match, pairs, schedule
from bot.language import LazyText, __, language_name
from bot.people import CONTACT_STATES as BOT_CONTACT_STATES
from bot.people import (
    PARTICIPANT_COLUMNS,
    ROLES,
    STATUSES,
    ParticipantFilter,
    languages_in_use,
    list_participants,
    own_participant,
    participant_table,
)
from bot.people import participant_timeline as build_timeline
from dashboard.deps import (
    NOT_FOUND,
    XLSX,
    AppCore,
    Database,
    Form,
    Signed,
    app_core,
    attachment,
    logged_each,
    refused,
    signed_page,
)
from dashboard.matching import mentor_panel
from storage.models import EndReason

router = APIRouter()

END_REASONS: dict[str, LazyText] = {
    EndReason.COMPLETED: __("Course completed"),
    EndReason.GOAL_REACHED_EARLY: __("Goal reached early"),
    EndReason.ENDED_BY_MENTEE: __("Ended by the mentee"),
    EndReason.ENDED_BY_MENTOR: __("Ended by the mentor"),
    EndReason.NOT_REACHABLE: __("Could not be reached"),
    EndReason.OTHER: __("Other reason"),
}
CONTACT_STATES: dict[str, LazyText] = {
    **BOT_CONTACT_STATES,
    "reminded": __("reminded, no answer yet"),
    "expired": __("expired, no answer"),
}
FLAG_STATUSES: dict[str, LazyText] = {
    "open": __("open"),
    "assigned": __("taken"),
    "resolved": __("resolved"),
}
RUN_STATUSES: dict[str, LazyText] = {
    "in_progress": __("not finished yet"),
    "partial": __("stopped before the end"),
}
NO_MENTOR_CHOSEN = __("Choose a mentor.")
WAITING_SHOWN = 20  # waiting mentees in the match page's picker; a search finds the others
# Why a pair needs attention, by the side that said so.
CONCERNS: dict[tuple[str, str], LazyText] = {
    ("mentee", "no_answer"): __("The mentee did not answer the last check-in."),
    ("mentor", "no_answer"): __("The mentor did not answer the last check-in."),
    ("mentee", "not_met"): __("The mentee says they have not met."),
    ("mentor", "not_met"): __("The mentor says they have not met."),
    ("mentee", "not_going_well"): __("The mentee says it is not going well."),
    ("mentor", "not_going_well"): __("The mentor says it is not going well."),
}


def _number(text: str | None) -> int | None:
    text = (text or "").strip().lstrip("#")
    return int(text) if text.isdigit() else None


def _day(text: str | None) -> date | None:
    """A date from a form's date field; ValueError if it is not one."""
    text = (text or "").strip()
    return date.fromisoformat(text) if text else None


# --- participants ------------------------------------------------------------------------------


def participant_filter(
    q: Annotated[str, Query(max_length=200)] = "",
    programme: Annotated[str, Query()] = "",
    role: Annotated[str, Query()] = "",
    status: Annotated[str, Query()] = "",
    language: Annotated[str, Query()] = "",
    waiting: Annotated[str, Query()] = "",
) -> ParticipantFilter:
    """The list's search and filters, from the query string (the page and its downloads)."""
    return ParticipantFilter(
        search=q.strip(),
        programme_id=_number(programme),
        role=role if role in ROLES else None,
        status=status if status in STATUSES else None,
        language=language or None,
        waiting_weeks=_number(waiting),
    )


Filtered = Annotated[ParticipantFilter, Depends(participant_filter)]


@router.get("/participants", response_class=HTMLResponse)
async def participant_list(
    request: Request, session: Database, signed: Signed, only: Filtered, core_: AppCore
) -> Response:
    me = signed.coordinator
    with core_.catalogs.use(me.language):
        rows = await list_participants(session, me, only)
    languages = await languages_in_use(session, me)
    programmes = await coordination.programmes_of(session, me)
    shown = [p.id for p in programmes if only.programme_id in (None, p.id)]
    found = [row.programme_id for row in rows]
    seen = coordination.counted(shown, found, "web: {count} participants")
    await logged_each(session, me, "view", seen)
    return signed_page(
        request,
        signed,
        "participants.html",
        rows=rows,
        only=only,
        programmes=programmes,
        roles=ROLES,
        statuses=STATUSES,
        languages={code: language_name(code) for code in languages},
    )


@router.get("/participants/export.{kind}")
async def participant_export(
    kind: str, session: Database, signed: Signed, only: Filtered, core_: AppCore
) -> Response:
    """The list as shown (same filters), as CSV or Excel; written to the audit log."""
    if kind not in {"csv", "xlsx"}:
        raise refused(404, NOT_FOUND)
    me = signed.coordinator
    with core_.catalogs.use(me.language):
        rows = await list_participants(session, me, only)
    table = participant_table(rows)
    programmes = await coordination.programme_ids(session, me)
    shown = [p for p in programmes if only.programme_id in (None, p)]
    found = [row.programme_id for row in rows]
    went = coordination.counted(shown, found, f"web: {{count}} participants as {kind}")
    await logged_each(session, me, "export", went)
    name = f"participants.{kind}"
    disposition = attachment(name)
    if kind == "csv":
        body = results.plain_table_csv(PARTICIPANT_COLUMNS, table)
        return Response(body, media_type="text/csv; charset=utf-8", headers=disposition)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        await asyncio.to_thread(results.plain_table_xlsx, PARTICIPANT_COLUMNS, table, path)
        content = await asyncio.to_thread(path.read_bytes)
    return Response(content, media_type=XLSX, headers=disposition)


@router.get("/participants/{participant_id}", response_class=HTMLResponse)
async def participant_timeline(
    request: Request,
    participant_id: int,
    session: Database,
    signed: Signed,
    mentor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return await _participant_page(request, session, signed, participant_id, search=mentor)


async def _participant_page(
    request: Request,
    session: Database,
    signed: Signed,
    participant_id: int,
    status_code: int = 200,
    search: str = "",
    refusal: MatchError | None = None,
) -> Response:
    """A participant's timeline; for a waiting mentee, the mentors to match her with."""
    me = signed.coordinator
    core_ = app_core(request)
    with core_.catalogs.use(me.language):
        try:
            timeline = await build_timeline(
                session, me, participant_id, core_.questionnaires, core_.programmes,
                core_.settings.timezone,
            )  # fmt: skip
        except coordination.CoordinationError:
            raise refused(404, NOT_FOUND) from None
        panel = await mentor_panel(session, me, core_, timeline.participant, search.strip())
        reason = str(refusal) if refusal else ""
    await session.commit()
    return signed_page(
        request,
        signed,
        "participant_timeline.html",
        status_code,
        timeline=timeline,
        person=timeline.participant,
        roles=ROLES,
        statuses=STATUSES,
        contact_states=CONTACT_STATES,
        flag_statuses=FLAG_STATUSES,
        run_statuses=RUN_STATUSES,
        end_reasons=END_REASONS,
        panel=panel,
        match_refused=reason,
    )


@router.post("/participants/{participant_id}/match")
async def match_from_suggestion(
    request: Request, participant_id: int, session: Database, signed: Signed, form: Form,
    core_: AppCore,
) -> Response:  # fmt: skip
    """One click on a mentor of the panel: the mentee of this page and that mentor, from today."""
    me = signed.coordinator
    try:
        await own_participant(session, me, participant_id)
    except coordination.CoordinationError:
        raise refused(404, NOT_FOUND) from None
    mentor = _number(form.get("mentor"))
    try:
        if mentor is None:
            raise MatchError(NO_MENTOR_CHOSEN)
        async with session.begin_nested():  # a refused match leaves nothing behind
            match = await make_match(
                session, me, core_.programmes, core_.settings.timezone, participant_id, mentor
            )
    except MatchError as error:
        return await _participant_page(request, session, signed, participant_id, 400, refusal=error)
    await session.commit()
    return RedirectResponse(f"/matches?done=made#match-{match.id}", status_code=303)


# --- matches -----------------------------------------------------------------------------------


async def _matches_page(
    request: Request,
    session: Database,
    signed: Signed,
    status_code: int = 200,
    error: str = "",
    refusal: MatchError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    me = signed.coordinator
    core_ = app_core(request)
    search = request.query_params.get("mentee", "").strip()[:200]
    with core_.catalogs.use(me.language):
        found = await pairs(
            session, me, core_.questionnaires, core_.programmes, core_.settings.timezone
        )
        reason = str(refusal) if refusal else ""
        waiting = await list_participants(
            session, me, ParticipantFilter(search=search, role="mentee", status="waiting")
        )
    # The picker: who waits longest first; a mentee's page then suggests her mentors.
    waiting.sort(key=lambda row: (row.waiting_since is None, row.waiting_since, row.id))
    mine = await coordination.programme_ids(session, me)
    seen = coordination.counted(mine, [pair.programme_id for pair in found], "web: {count} matches")
    await logged_each(session, me, "view", seen)
    return signed_page(
        request,
        signed,
        "matches.html",
        status_code,
        pairs=found,
        error=error,
        reason=reason,
        form=form or {},
        waiting=waiting[:WAITING_SHOWN],
        waiting_count=len(waiting),
        mentee_search=search,
        roles=ROLES,
        end_reasons=END_REASONS,
        concerns=CONCERNS,
        done=request.query_params.get("done", ""),
    )


@router.get("/matches", response_class=HTMLResponse)
async def matches_page(request: Request, session: Database, signed: Signed) -> Response:
    return await _matches_page(request, session, signed)


@router.post("/matches")
async def new_match(
    request: Request, session: Database, signed: Signed, form: Form, core_: AppCore
) -> Response:
    me = signed.coordinator
    mentee, mentor = _number(form.get("mentee")), _number(form.get("mentor"))
    if mentee is None or mentor is None:
        return await _matches_page(request, session, signed, 400, "numbers", form=form)
    try:
        start = _day(form.get("start"))
    except ValueError:
        return await _matches_page(request, session, signed, 400, "date", form=form)
    try:
        async with session.begin_nested():  # a refused match leaves nothing behind
            match = await make_match(
                session, me, core_.programmes, core_.settings.timezone, mentee, mentor, start
            )
    except MatchError as error:
        return await _matches_page(request, session, signed, 400, "match", error, form)
    await session.commit()
    return RedirectResponse(f"/matches?done=made#match-{match.id}", status_code=303)


@router.post("/matches/{match_id}/end")
async def end_match(
    request: Request, match_id: int, session: Database, signed: Signed, form: Form, core_: AppCore
) -> Response:
    me = signed.coordinator
    try:
        await own_match(session, me, match_id)
    except coordination.CoordinationError:
        raise refused(404, NOT_FOUND) from None
    try:
        reason = EndReason(form.get("reason", ""))
    except ValueError:
        return await _matches_page(request, session, signed, 400, "reason")
    try:
        ended = _day(form.get("date"))
    except ValueError:
        return await _matches_page(request, session, signed, 400, "date")
    try:
        async with session.begin_nested():
            await finish_match(
                session, me, core_.programmes, core_.settings.timezone, match_id, reason, ended
            )
    except MatchError as error:
        return await _matches_page(request, session, signed, 400, "end", error)
    await session.commit()
    return RedirectResponse(f"/matches?done=ended#match-{match_id}", status_code=303)


# --- schedule ----------------------------------------------------------------------------------


@router.get("/schedule", response_class=HTMLResponse)
async def schedule_page(
    request: Request, session: Database, signed: Signed, core_: AppCore
) -> Response:
    me = signed.coordinator
    with core_.catalogs.use(me.language):
        week = await schedule(
            session, me, core_.questionnaires, core_.programmes, core_.settings.timezone
        )
    mine = await coordination.programme_ids(session, me)
    await logged_each(session, me, "view", dict.fromkeys(mine, "web: schedule"))
    return signed_page(request, signed, "schedule.html", week=week, roles=ROLES)
