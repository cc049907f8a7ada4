"""A participant as their coordinator sees them: status, match, schedule, open flags and the
answers of named surveys. Anonymous answers never appear here: nothing links them to anyone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import (
    CATEGORY_LABELS,
    SEVERITY_LABELS,
    CoordinationError,
    audit,
    programme_ids,
)
from bot.language import (
    _,
    __,
    answer_lines,
    language_name,
    local_date,
    question_of,
    value_text,
    voice_of,
)
from bot.messages import VoiceNote
from bot.programmes import Questionnaire
from storage import repositories as repo
from storage.models import Coordinator, Flag, FlagStatus, Participant, SurveyRun

RECENT_SURVEYS = 3

NOT_FOUND = __("There is no participant {number} in your programmes.")
HEADING = __("Participant {number} · {role} · {status}")
JOINED = __("Language: {language} · joined {date}")
MATCH = __("Match: {role} {number}, from {start} to {end}")
NO_MATCH = __("No match yet.")
SCHEDULE = __("Check-ins:")
FLAGS = __("Open flags:")
ANSWERS = __("Latest answers:")
NO_ANSWERS = __("No answers yet.")
ANONYMOUS_FLAG = __(
    "This flag came from an anonymous survey. Nobody can see who gave the answer, "
    "unless the person asks to be contacted."
)
ROLES = {"mentee": __("mentee"), "mentor": __("mentor")}
STATUSES = {
    "intake": __("in intake"),
    "waiting": __("waiting for a match"),
    "matched": __("matched"),
    "ended": __("course ended"),
    "dropped_out": __("dropped out"),
    "withdrawn": __("withdrew and deleted their data"),
}
CONTACT_STATES = {
    "planned": __("planned"),
    "sent": __("sent, no answer yet"),
    "answered": __("answered"),
    "expired": __("no answer"),
    "cancelled": __("cancelled"),
}


def label(labels: Mapping[str, object], key: str | None) -> str:
    """A stored key (a role, status, category…) in words, or the key if it has none."""
    if key is None:
        return ""
    return str(labels.get(key, key))


async def own_participant(
    session: AsyncSession, coordinator: Coordinator, participant_id: int
) -> Participant:
    """Another programme's participant is "not found", as if there were none."""
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.programme_id not in await programme_ids(
        session, coordinator
    ):
        raise CoordinationError(NOT_FOUND.format(number=str(participant_id)))
    return participant


@dataclass(frozen=True)
class Profile:
    text: str
    voice_answers: list[VoiceNote]  # to play after the text, latest surveys first


async def participant_profile(
    session: AsyncSession,
    coordinator: Coordinator,
    participant_id: int,
    questionnaires: dict[str, Questionnaire],
    flag: Flag | None = None,
) -> Profile:
    """The profile in the active language; the view is written to the audit log."""
    participant = await own_participant(session, coordinator, participant_id)
    programme_id = flag.programme_id if flag else participant.programme_id
    await audit(
        session, coordinator, "view", programme_id=programme_id, flag=flag,
        participant_id=participant.id,
    )  # fmt: skip
    lines = [
        HEADING.format(
            number=str(participant.id),
            role=label(ROLES, participant.role),
            status=label(STATUSES, participant.status),
        ),
        JOINED.format(
            language=language_name(participant.language) if participant.language else "-",
            date=local_date(participant.created_at),
        ),
    ]
    match = await repo.active_match_of(session, participant.id)
    if match is None:
        lines.append(str(NO_MATCH))
    else:
        partner = match.mentor if match.mentee_id == participant.id else match.mentee
        lines.append(
            MATCH.format(
                role=label(ROLES, partner.role),
                number=str(partner.id),
                start=local_date(match.started_at),
                end=local_date(match.planned_end_at),
            )
        )
    contacts = await repo.contacts_of(session, participant.id)
    if contacts:
        lines += ["", str(SCHEDULE)]
        for contact in sorted(contacts, key=lambda c: c.due_at):
            questionnaire = questionnaires.get(contact.questionnaire_id)
            title = _(questionnaire.title) if questionnaire else contact.questionnaire_id
            lines.append(
                f"- {local_date(contact.due_at)} · {title} · {label(CONTACT_STATES, contact.state)}"
            )
    open_flags = await session.scalars(
        select(Flag)
        .where(Flag.participant_id == participant.id, Flag.status != FlagStatus.RESOLVED)
        .order_by(Flag.created_at)
    )
    flag_lines = [
        f"- #{f.id} {label(SEVERITY_LABELS, f.severity)}: {label(CATEGORY_LABELS, f.category)}"
        for f in open_flags
    ]
    if flag_lines:
        lines += ["", str(FLAGS), *flag_lines]
    runs = list(
        await session.scalars(
            select(SurveyRun)
            .where(SurveyRun.participant_id == participant.id)
            .order_by(SurveyRun.started_at.desc(), SurveyRun.id.desc())
            .limit(RECENT_SURVEYS)
        )
    )
    answers = await repo.answers_by_run(session, [run.id for run in runs])
    lines += ["", str(ANSWERS) if runs else str(NO_ANSWERS)]
    for run in runs:
        questionnaire = questionnaires.get(run.questionnaire_id)
        title = _(questionnaire.title) if questionnaire else run.questionnaire_id
        lines += [
            f"{title} ({local_date(run.started_at)})",
            *answer_lines(questionnaire, answers[run.id]),
            "",
        ]
    voices = [
        VoiceNote(file_id=str(voice["file_id"]))
        for run in runs
        for answer in answers[run.id]
        if (voice := voice_of(answer.value)) is not None
    ]
    return Profile("\n".join(lines).rstrip(), voices)


@dataclass(frozen=True)
class FlagContext:
    """A flag's answer in context, in the active language: the question, the answer as given,
    and the earlier answers of the same survey if it was a named one (never an anonymous one)."""

    question: str | None
    answer: str | None
    earlier: list[str]
    voice: VoiceNote | None


async def flag_context(
    session: AsyncSession, flag: Flag, questionnaires: dict[str, Questionnaire]
) -> FlagContext:
    questionnaire = questionnaires.get(flag.questionnaire_id or "")
    question = question_of(questionnaire, flag.question_id)
    earlier: list[str] = []
    run = await session.get(SurveyRun, flag.run_id) if flag.run_id else None
    if run is not None and run.participant_id is not None:
        answers = (await repo.answers_by_run(session, [run.id]))[run.id]
        earlier = answer_lines(
            questionnaire, [a for a in answers if a.question_id != flag.question_id]
        )
    voice = voice_of(flag.answer)
    return FlagContext(
        question=_(question.text) if question else None,
        answer=None if flag.answer is None else value_text(question, flag.answer),
        earlier=earlier,
        voice=VoiceNote(file_id=str(voice["file_id"])) if voice else None,
    )
