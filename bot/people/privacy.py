"""The person's own data: see it (/mydata), delete it (/delete), and retention.

The consent text promises both; this module keeps the promise. Anonymous answers are not part
of either: nothing in the database links them to the person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.language import _, answer_lines, delete_voice_files, local_date, texts
from bot.programmes import Questionnaire
from storage import inbox
from storage import repositories as repo
from storage.database import clock_now
from storage.models import (
    ContactState,
    Flag,
    FlagMessage,
    Match,
    Participant,
    ParticipantStatus,
    SurveyRun,
)


@dataclass
class PersonalData:
    summary: str
    document: bytes


async def personal_data(
    session: AsyncSession, participant: Participant, questionnaires: dict[str, Questionnaire]
) -> PersonalData:
    """Everything stored about the person, readable (in the active language) and as JSON."""
    runs = list(
        await session.scalars(
            select(SurveyRun)
            .where(SurveyRun.participant_id == participant.id)
            .order_by(SurveyRun.id)
        )
    )
    answers = await repo.answers_by_run(session, [run.id for run in runs])
    matches = list(
        await session.scalars(
            select(Match).where(
                (Match.mentee_id == participant.id) | (Match.mentor_id == participant.id)
            )
        )
    )
    contacts = await repo.contacts_of(session, participant.id)
    messages = list(
        await session.scalars(
            select(FlagMessage)
            .join(Flag, Flag.id == FlagMessage.flag_id)
            .where(Flag.participant_id == participant.id)
            .order_by(FlagMessage.id)
        )
    )
    lines = [
        str(texts.MYDATA_INTRO),
        "",
        texts.MYDATA_PROFILE.format(
            programme=participant.programme.name if participant.programme else "-",
            language=participant.language or "-",
            consent=local_date(participant.consent_given_at),
        ),
    ]
    for run in runs:
        questionnaire = questionnaires.get(run.questionnaire_id)
        title = _(questionnaire.title) if questionnaire else run.questionnaire_id
        lines += ["", f"{title} ({local_date(run.started_at)})"]
        lines += answer_lines(questionnaire, answers[run.id])
    for match in matches:
        end = local_date(match.ended_at or match.planned_end_at)
        lines += ["", texts.MYDATA_MATCH.format(start=local_date(match.started_at), end=end)]
    if messages:
        lines += ["", str(texts.MYDATA_MESSAGES)]
        lines += [
            f"- {local_date(m.sent_at)} "
            f"{texts.MYDATA_YOU if m.coordinator_id is None else texts.MYDATA_COORDINATOR}: "
            f"{m.text}"
            for m in messages
        ]
    planned = [c for c in contacts if c.state == ContactState.PLANNED]
    if planned:
        lines += ["", str(texts.MYDATA_PLANNED)]
        lines += [f"- {local_date(contact.due_at)}" for contact in planned]
    lines += ["", str(texts.MYDATA_ANONYMOUS), "", str(texts.MYDATA_DELETE_HINT)]

    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    document = {
        "participant": {
            "number": participant.id,
            "channel": participant.channel,
            "channel_user_id": participant.channel_user_id,
            "programme": participant.programme.code if participant.programme else None,
            "role": participant.role,
            "status": participant.status,
            "language": participant.language,
            "consent_version": participant.consent_version,
            "consent_given_at": when(participant.consent_given_at),
            "joined_at": when(participant.created_at),
        },
        "surveys": [
            {
                "questionnaire": run.questionnaire_id,
                "version": run.questionnaire_version,
                "status": run.status,
                "started_at": when(run.started_at),
                "completed_at": when(run.completed_at),
                "answers": {
                    answer.question_id: {"value": answer.value, "status": answer.status}
                    for answer in answers[run.id]
                },
            }
            for run in runs
        ],
        "matches": [
            {
                "started_at": when(m.started_at),
                "planned_end_at": when(m.planned_end_at),
                "ended_at": when(m.ended_at),
                "end_reason": m.end_reason,
            }
            for m in matches
        ],
        "contacts": [
            {"questionnaire": c.questionnaire_id, "due_at": when(c.due_at), "state": c.state}
            for c in contacts
        ],
        "messages_with_coordinator": [
            {
                "from": "you" if m.coordinator_id is None else "coordinator",
                "note_for_colleagues": m.internal,
                "sent_at": when(m.sent_at),
                "text": m.text,
            }
            for m in messages
        ],
        "not_included": "Answers to anonymous questionnaires: nothing links them to you.",
    }
    return PersonalData(
        summary="\n".join(lines),
        document=json.dumps(document, ensure_ascii=False, indent=2).encode(),
    )


async def erase_person(
    session: AsyncSession, participant: Participant, voice_dir: Path | None = None
) -> None:
    """Erase identity, contact details and named answers; cancel what was planned.

    What stays: a tombstone row (number, programme, role, status "withdrawn") so coordinators
    and reports know that someone withdrew, and anonymous answers, which nothing links to them.
    """
    now = clock_now(session)
    runs = list(
        await session.scalars(select(SurveyRun).where(SurveyRun.participant_id == participant.id))
    )
    if voice_dir is not None:
        answers = await repo.answers_by_run(session, [run.id for run in runs])
        flags = await session.scalars(
            select(Flag.answer).where(Flag.participant_id == participant.id)
        )
        values = [a.value for group in answers.values() for a in group]
        delete_voice_files([*values, *flags], voice_dir)
    await repo.delete_answers_of_runs(session, [run.id for run in runs])
    for contact in await repo.contacts_of(session, participant.id):
        if contact.state in {ContactState.PLANNED, ContactState.SENT}:
            contact.state = ContactState.CANCELLED
            contact.closed_at = now
    # Flags stay for the coordinator's record (category, status), without the answer text
    # or the messages written on them.
    own_flags = select(Flag.id).where(Flag.participant_id == participant.id)
    await session.execute(delete(FlagMessage).where(FlagMessage.flag_id.in_(own_flags)))
    await session.execute(
        update(Flag).where(Flag.participant_id == participant.id).values(answer=None)
    )
    # What the person wrote, as it came in, goes too (their chat is their channel user id).
    await inbox.forget_chat(session, participant.channel, participant.channel_user_id)
    participant.answering_flag_id = None
    participant.talk_requested_at = None
    participant.channel_user_id = f"erased-{participant.id}"
    participant.language = None
    participant.consent_version = None
    participant.consent_given_at = None
    participant.consent_declined_at = None
    participant.prompt_message_id = None
    participant.active_contact_id = None
    participant.status = ParticipantStatus.WITHDRAWN
    participant.withdrawn_at = now
    await session.flush()


async def apply_retention(
    session: AsyncSession, programme_id: int, keep_until: datetime, voice_dir: Path | None = None
) -> list[int]:
    """Erase people whose last match in this programme ended before `keep_until`."""
    erased = []
    ended = await session.scalars(
        select(Match).where(
            Match.programme_id == programme_id,
            Match.ended_at.is_not(None),
            Match.ended_at < keep_until,
        )
    )
    for match in ended:
        for person in (match.mentee, match.mentor):
            if person.status == ParticipantStatus.WITHDRAWN:
                continue
            if await repo.active_match_of(session, person.id) is not None:
                continue
            later = await session.scalar(
                select(Match.id).where(
                    (Match.mentee_id == person.id) | (Match.mentor_id == person.id),
                    Match.ended_at >= keep_until,
                )
            )
            if later is None:
                await erase_person(session, person, voice_dir)
                erased.append(person.id)
    return erased


__all__ = ["PersonalData", "apply_retention", "erase_person", "personal_data"]
