"""Last router: button presses nobody else understood (malformed or foreign callback data)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import SurveyEngine
from bot.messages import MalformedTap
from handlers.telegram.delivery import deliver
from handlers.telegram.middlewares import CHANNEL


async def malformed_tap(
    callback: CallbackQuery, bot: Bot, session: AsyncSession, engine: SurveyEngine
) -> None:
    reply = await engine.handle(
        session,
        CHANNEL,
        str(callback.from_user.id),
        MalformedTap(),
        callback.from_user.language_code,
    )
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    await deliver(
        reply, bot=bot, chat_id=chat_id, session=session, engine=engine, callback=callback
    )


def create_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(malformed_tap)
    return router
