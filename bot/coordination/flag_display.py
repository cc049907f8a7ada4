"""A flag as a coordinator reads it in Telegram, with its buttons and the messages on it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.wording import (
    ANONYMOUS,
    CATEGORY_LABELS,
    COORDINATOR_WROTE,
    OPEN,
    PARTICIPANT,
    PARTICIPANT_WROTE,
    REPLY,
    RESOLVE,
    SEVERITY_LABELS,
    TAKE,
)
from bot.language import _, question_of, value_text, voice_of
from bot.messages import Action, Button, OutgoingMessage, Press, VoiceNote
from bot.programmes import Questionnaire
from storage import repositories as repo
from storage.models import Flag, FlagMessage


def flag_message(
    flag: Flag, questionnaires: dict[str, Questionnaire], thread: Sequence[FlagMessage] = ()
) -> OutgoingMessage:
    """A flag as a coordinator reads it, in the active language, with its buttons and the
    messages written on it."""
    who = PARTICIPANT.format(number=str(flag.participant_id)) if flag.participant_id else ANONYMOUS
    lines = [
        f"{SEVERITY_LABELS.get(flag.severity, flag.severity)}: "
        f"{CATEGORY_LABELS.get(flag.category, flag.category)}",
        f"#{flag.id} · {who}",
    ]
    question = question_of(questionnaires.get(flag.questionnaire_id or ""), flag.question_id)
    if question is not None:
        lines.append(_(question.text))
    if flag.answer is not None:
        lines.append(f"» {value_text(question, flag.answer)}")
    for message in thread:
        author = PARTICIPANT_WROTE if message.coordinator_id is None else COORDINATOR_WROTE
        lines.append(f"{author}: {message.text}")
    buttons = [Button(str(OPEN), Press(Action.OPEN_FLAG, option=flag.id))]
    if flag.participant_id is not None:
        buttons.append(Button(str(REPLY), Press(Action.REPLY_FLAG, option=flag.id)))
    keyboard = (
        (
            Button(str(TAKE), Press(Action.TAKE_FLAG, option=flag.id)),
            Button(str(RESOLVE), Press(Action.RESOLVE_FLAG, option=flag.id)),
        ),
        tuple(buttons),
    )
    voice = voice_of(flag.answer)
    played = VoiceNote(file_id=str(voice["file_id"])) if voice else None
    return OutgoingMessage("\n".join(lines), keyboard, voice=played)


async def flag_view(
    session: AsyncSession, flag: Flag, questionnaires: dict[str, Questionnaire]
) -> OutgoingMessage:
    thread = [m for m in await repo.flag_thread(session, flag.id) if not m.internal]
    return flag_message(flag, questionnaires, thread)
