"""The survey: /start (with a deep-link code), button presses and typed answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import SurveyEngine
from bot.course import ContactDispatcher
from bot.messages import (
    AskForPerson,
    AskToErase,
    ChooseLanguage,
    Input,
    ShowMyData,
    Start,
    Tap,
    Text,
    Unsupported,
    Voice,
)
from handlers.telegram.callbacks import SurveyTap
from handlers.telegram.delivery import deliver
from handlers.telegram.middlewares import CHANNEL


async def answer_message(
    message: Message,
    incoming: Input,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    contacts: ContactDispatcher | None,
) -> None:
    user = message.from_user
    assert user is not None
    reply = await engine.handle(session, CHANNEL, str(user.id), incoming, user.language_code)
    await deliver(reply, bot=bot, chat_id=message.chat.id, session=session, engine=engine)
    await push_urgent_flags(session, contacts)


async def push_urgent_flags(session: AsyncSession, contacts: ContactDispatcher | None) -> None:
    """An urgent flag goes to the coordinators at once, not at the dispatcher's next round."""
    # The push writes in its own session: ours must not hold the database meanwhile.
    await session.commit()
    if contacts is not None:
        await contacts.push_flags()


def handler(read: Callable[[Message], Input]) -> Callable[..., Awaitable[None]]:
    """A handler that turns a message into one engine input and answers it."""

    async def handle(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        engine: SurveyEngine,
        contacts: ContactDispatcher | None = None,
    ) -> None:
        await answer_message(message, read(message), bot, session, engine, contacts)

    return handle


def command(incoming: Input) -> Callable[..., Awaitable[None]]:
    """A command that is one fixed engine input (/mydata, /delete, /help, /language)."""
    return handler(lambda _: incoming)


def _voice(message: Message) -> Voice:
    assert message.voice is not None
    return Voice(message.voice.file_id, message.voice.file_unique_id, message.voice.duration)


def _unsupported(message: Message) -> Unsupported:
    """Stickers, photos, locations, unknown commands: the question is repeated."""
    return Unsupported(kind=str(message.content_type) if not message.text else "command")


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    contacts: ContactDispatcher | None = None,
) -> None:
    await answer_message(message, Start(payload=command.args), bot, session, engine, contacts)


async def tap(
    callback: CallbackQuery,
    callback_data: SurveyTap,
    bot: Bot,
    session: AsyncSession,
    engine: SurveyEngine,
    contacts: ContactDispatcher | None = None,
) -> None:
    reply = await engine.handle(
        session,
        CHANNEL,
        str(callback.from_user.id),
        Tap(callback_data.press()),
        callback.from_user.language_code,
    )
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    await deliver(
        reply, bot=bot, chat_id=chat_id, session=session, engine=engine, callback=callback
    )
    await push_urgent_flags(session, contacts)


def create_router() -> Router:
    router = Router(name="survey")
    # The intake is a private conversation; the bot ignores group chats.
    router.message.filter(F.chat.type == "private")
    router.message.register(start, CommandStart())
    router.message.register(command(ShowMyData()), Command("mydata"))
    router.message.register(command(AskToErase()), Command("delete"))
    router.message.register(command(AskForPerson()), Command("help"))
    router.message.register(command(ChooseLanguage()), Command("language"))
    router.callback_query.register(tap, SurveyTap.filter())
    router.message.register(handler(lambda m: Text(m.text or "")), F.text & ~F.text.startswith("/"))
    router.message.register(handler(_voice), F.voice)
    router.message.register(handler(_unsupported))
    return router
