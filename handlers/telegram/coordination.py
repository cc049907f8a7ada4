"""Coordinators in Telegram: link the account, list flags, take and resolve them.

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
from bot.conversation import Action
from bot.engine import SurveyEngine
from handlers.telegram.callbacks import SurveyTap
from handlers.telegram.delivery import keyboard


async def linked(event: TelegramObject, session: AsyncSession) -> dict[str, Any] | bool:
    user = getattr(event, "from_user", None)
    if user is None:
        return False
    coordinator = await core.coordinator_by_telegram(session, user.id)
    return {"coordinator": coordinator} if coordinator is not None else False


async def resolving(event: TelegramObject, session: AsyncSession) -> dict[str, Any] | bool:
    found = await linked(event, session)
    if isinstance(found, dict) and found["coordinator"].resolving_flag_id is not None:
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
    message: Message, session: AsyncSession, engine: SurveyEngine, coordinator: Any
) -> None:
    flags = await core.open_flags(session, coordinator)
    await core.audit(session, coordinator, "view", detail=f"{len(flags)} open flags")
    await session.commit()
    with engine.catalogs.use(coordinator.language):
        views = [core.flag_message(flag, engine.questionnaires) for flag in flags]
        empty = str(core.NO_OPEN_FLAGS)
    if not views:
        await message.answer(empty)
    for view in views:
        await message.answer(view.text, reply_markup=keyboard(view))


async def act_on_flag(
    callback: CallbackQuery,
    callback_data: SurveyTap,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    coordinator: Any,
) -> None:
    with engine.catalogs.use(coordinator.language):
        try:
            if callback_data.a is Action.TAKE_FLAG:
                flag = await core.take_flag(session, coordinator, callback_data.o)
                note = core.TAKEN_BY.format(name=coordinator.name)
                others = [
                    c for c in await core.coordinators_of(session, flag.programme_id or 0)
                    if c.id != coordinator.id and c.telegram_user_id
                ]  # fmt: skip
            else:
                flag = await core.start_resolving(session, coordinator, callback_data.o)
                note, others = str(core.ASK_OUTCOME), []
        except core.CoordinationError as error:
            await callback.answer(str(error), show_alert=True)
            return
    await session.commit()
    await callback.answer()
    await bot.send_message(chat_id=callback.from_user.id, text=note)
    for other in others:  # "tells the others"
        assert other.telegram_user_id is not None
        with engine.catalogs.use(other.language):
            view = core.flag_message(flag, engine.questionnaires)
            told = f"{core.TAKEN_BY.format(name=coordinator.name)}\n\n{view.text}"
        await bot.send_message(chat_id=other.telegram_user_id, text=told)


async def outcome_note(
    message: Message, session: AsyncSession, engine: SurveyEngine, coordinator: Any
) -> None:
    flag = await core.resolve_flag(session, coordinator, message.text or "")
    await session.commit()
    if flag is not None:
        with engine.catalogs.use(coordinator.language):
            text = core.RESOLVED_BY.format(name=coordinator.name, note=flag.outcome)
        await message.answer(text)


def create_router() -> Router:
    router = Router(name="coordination")
    router.message.filter(F.chat.type == "private")
    router.message.register(link_account, Command("coordinator"))
    router.message.register(list_flags, Command("flags"), linked)
    router.callback_query.register(
        act_on_flag,
        SurveyTap.filter(F.a.in_({Action.TAKE_FLAG, Action.RESOLVE_FLAG})),
        linked,
    )
    router.message.register(outcome_note, F.text & ~F.text.startswith("/"), resolving)
    return router
