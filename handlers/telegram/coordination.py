"""Coordinators in Telegram: link the account, list flags, take, open, reply to and resolve
them, and look a participant up.

Only linked coordinators reach these handlers (the `linked` filter); everyone else falls
through to the participant routers, which know nothing of coordinators.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot import coordination as core
from bot.conversation import SurveyEngine
from bot.coordination import message_participant
from bot.course import Undeliverable
from bot.messages import Action, OutgoingMessage, VoiceNote, split_text
from bot.people import ANONYMOUS_FLAG, participant_profile
from handlers.telegram.answers import answer_quietly
from handlers.telegram.callbacks import FLAG_ACTIONS, SurveyTap, names_flag_action
from handlers.telegram.delivery import send
from handlers.telegram.middlewares import CHANNEL
from handlers.telegram.outbox import TelegramOutbox


async def linked(event: TelegramObject, session: AsyncSession) -> dict[str, Any] | bool:
    user = getattr(event, "from_user", None)
    if user is None:
        return False
    coordinator = await core.coordinator_by_telegram(session, user.id)
    return {"coordinator": coordinator} if coordinator is not None else False


async def awaiting_text(event: TelegramObject, session: AsyncSession) -> dict[str, Any] | bool:
    found = await linked(event, session)
    if isinstance(found, dict) and found["coordinator"].awaiting_flag_id is not None:
        return found
    return False


async def link_account(
    message: Message, command: CommandObject, session: AsyncSession, engine: SurveyEngine
) -> None:
    assert message.from_user is not None
    coordinator = await core.link_coordinator(session, command.args or "", message.from_user.id)
    language = (
        coordinator.language
        if coordinator
        else engine.likely_language(message.from_user.language_code)
    )
    with engine.catalogs.use(language):
        text = core.LINKED.format(name=coordinator.name) if coordinator else str(core.BAD_INVITE)
    await session.commit()
    await message.answer(text)


async def list_flags(
    message: Message, bot: Bot, session: AsyncSession, engine: SurveyEngine, coordinator: Any
) -> None:
    flags = await core.open_flags(session, coordinator)
    mine = await core.programme_ids(session, coordinator)
    seen = core.counted(mine, [flag.programme_id for flag in flags], "{count} open flags")
    await core.audit_each(session, coordinator, "view", seen)
    with engine.catalogs.use(coordinator.language):
        views = [await core.flag_view(session, flag, engine.questionnaires) for flag in flags]
        empty = str(core.NO_OPEN_FLAGS)
    await session.commit()
    if not views:
        await message.answer(empty)
    for view in views:
        await send(bot, message.chat.id, view)


async def show_participant(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    coordinator: Any,
) -> None:
    voices: list[VoiceNote] = []
    with engine.catalogs.use(coordinator.language):
        number = (command.args or "").strip().lstrip("#")
        if not number.isdigit():
            text = str(core.PARTICIPANT_USAGE)
        else:
            try:
                profile = await participant_profile(
                    session, coordinator, int(number), engine.questionnaires
                )
                text, voices = profile.text, profile.voice_answers
            except core.CoordinationError as error:
                text = str(error)
    await session.commit()
    await _show(bot, message.chat.id, text, voices)


async def _show(bot: Bot, chat_id: int, text: str, voices: list[VoiceNote]) -> None:
    """A long text in parts, then the voice answers it mentions, playable."""
    for part in split_text(text):
        await bot.send_message(chat_id=chat_id, text=part)
    for voice in voices:
        await send(bot, chat_id, OutgoingMessage("🎤", voice=voice))


async def act_on_flag(
    callback: CallbackQuery,
    callback_data: SurveyTap,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    coordinator: Any,
) -> None:
    others: list[Any] = []
    voices: list[VoiceNote] = []
    with engine.catalogs.use(coordinator.language):
        try:
            if callback_data.a is Action.TAKE_FLAG:
                flag = await core.take_flag(session, coordinator, callback_data.o)
                note = core.TAKEN_BY.format(name=coordinator.name)
                others = [
                    c for c in await core.coordinators_of(session, flag.programme_id or 0)
                    if c.id != coordinator.id and c.telegram_user_id
                ]  # fmt: skip
            elif callback_data.a is Action.OPEN_FLAG:
                flag = await core.own_flag(session, coordinator, callback_data.o)
                if flag.participant_id is None:
                    await core.audit(
                        session, coordinator, "view", programme_id=flag.programme_id, flag=flag
                    )
                    note = str(ANONYMOUS_FLAG)
                else:
                    profile = await participant_profile(
                        session, coordinator, flag.participant_id, engine.questionnaires, flag
                    )
                    note, voices = profile.text, profile.voice_answers
            elif callback_data.a is Action.REPLY_FLAG:
                flag = await core.await_text(
                    session, coordinator, callback_data.o, core.Awaiting.REPLY
                )
                note = core.ASK_REPLY.format(
                    who=core.PARTICIPANT.format(number=str(flag.participant_id))
                )
            else:
                await core.await_text(session, coordinator, callback_data.o, core.Awaiting.RESOLVE)
                note = str(core.ASK_OUTCOME)
        except core.CoordinationError as error:
            await answer_quietly(callback, str(error), alert=True)
            return
    await session.commit()
    await answer_quietly(callback)
    await _show(bot, callback.from_user.id, note, voices)
    for other in others:  # "tells the others"
        with engine.catalogs.use(other.language):
            view = await core.flag_view(session, flag, engine.questionnaires)
            told = f"{core.TAKEN_BY.format(name=coordinator.name)}\n\n{view.text}"
        await bot.send_message(chat_id=other.telegram_user_id, text=told)


async def forged_flag_press(
    callback: CallbackQuery, engine: SurveyEngine, coordinator: Any
) -> None:
    """A flag button whose data does not parse (a forged or out-of-range id): no flag of
    theirs, as for a flag of another programme."""
    with engine.catalogs.use(coordinator.language):
        refusal = str(core.NOT_YOURS)
    await answer_quietly(callback, refusal, alert=True)


async def awaited_text(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    coordinator: Any,
) -> None:
    """The outcome note of a flag being resolved, or the message to a participant."""
    text = message.text or ""
    delivery = None
    with engine.catalogs.use(coordinator.language):
        try:
            what = coordinator.awaiting
            flag = await core.awaited_flag(session, coordinator)
            if what == core.Awaiting.REPLY:
                delivery = await message_participant(
                    session, coordinator, flag, text, engine.catalogs
                )
                done = core.MESSAGE_SENT.format(
                    who=core.PARTICIPANT.format(number=str(flag.participant_id))
                )
                failed = str(core.MESSAGE_UNDELIVERABLE)
            else:
                await core.resolve_flag(session, coordinator, flag, text)
                done = core.RESOLVED_BY.format(name=coordinator.name, note=flag.outcome)
        except core.CoordinationError as error:
            done = str(error)
    # Recorded first, sent after: a message on the flag is never lost, at worst not delivered.
    await session.commit()
    if delivery is not None:
        try:
            if delivery.channel != CHANNEL:
                raise Undeliverable(f"no way to reach channel {delivery.channel}")
            await TelegramOutbox(bot).send(delivery.channel_user_id, delivery.message)
        except Undeliverable:
            done = failed
    await message.answer(done)


def create_router() -> Router:
    router = Router(name="coordination")
    router.message.filter(F.chat.type == "private")
    router.message.register(link_account, Command("coordinator"))
    router.message.register(list_flags, Command("flags"), linked)
    router.message.register(show_participant, Command("participant"), linked)
    router.callback_query.register(act_on_flag, SurveyTap.filter(F.a.in_(FLAG_ACTIONS)), linked)
    router.callback_query.register(forged_flag_press, F.data.func(names_flag_action), linked)
    router.message.register(awaited_text, F.text & ~F.text.startswith("/"), awaiting_text)
    return router
