"""Play a person talking to the engine directly, without any channel."""

from __future__ import annotations

from bot.core import Core
from bot.messages import Button, Input, OutgoingMessage, Reply, Start, Tap, Text, Unsupported


class EngineChat:
    def __init__(
        self, core: Core, user_id: str = "1", channel: str = "test", hint: str | None = None
    ):
        self.core = core
        self.user_id = user_id
        self.channel = channel
        self.hint = hint
        self.replies: list[Reply] = []
        self.prompt: OutgoingMessage | None = None

    async def send(self, incoming: Input) -> Reply:
        async with self.core.sessions() as session:
            reply = await self.core.engine.handle(
                session, self.channel, self.user_id, incoming, self.hint
            )
            await session.commit()
        self.replies.append(reply)
        if reply.edit is not None and reply.edit.keyboard:
            self.prompt = reply.edit
        for message in reply.messages:
            if message.keyboard:
                self.prompt = message
        return reply

    async def start(self, payload: str | None = None) -> Reply:
        return await self.send(Start(payload))

    async def say(self, text: str) -> Reply:
        return await self.send(Text(text))

    async def send_sticker(self) -> Reply:
        return await self.send(Unsupported("sticker"))

    def button(self, label: str, message: OutgoingMessage | None = None) -> Button:
        message = message or self.prompt
        assert message is not None, "no question with buttons has been shown"
        labels = [button.label for row in message.keyboard for button in row]
        for row in message.keyboard:
            for button in row:
                if button.label == label:
                    return button
        raise AssertionError(f"no button {label!r}; buttons are {labels}")

    async def tap(self, label: str, message: OutgoingMessage | None = None) -> Reply:
        return await self.send(Tap(self.button(label, message).press))

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def asks(self) -> bool:
        """Whether the last reply shows a question with buttons (in the pressed message or a
        new one)."""
        last = self.last
        shown = [last.edit] if last.edit is not None else []
        return any(message.keyboard for message in [*shown, *last.messages][-1:])

    @property
    def texts(self) -> list[str]:
        return [message.text for message in self.last.messages]

    @property
    def question_text(self) -> str:
        assert self.prompt is not None
        return self.prompt.text
