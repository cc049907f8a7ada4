"""The simulated people of the load benchmarks: a mentee going through the intake of the
programme she joined by its deep link, and a person chatting with the echo bot.

A mentee reads only what the bot shows (the buttons' callback data and the texts), so she
follows whatever the bot does: a question sent as a new message or edited into the old one,
questions skipped by the programme's conditions. Each of her actions is a `Step`: from the
moment its update was queued at the fake server to the arrival there of the bot's answer she
waits for (the next question, the language's consent, the tick of a multi-choice option, the
closing message), or lost when it never comes.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass

from bot.language import Catalogs, texts
from handlers.telegram.errors import SOMETHING_WENT_WRONG

from .harness import ChatLog, Delivery, RecordingServer

PROGRAMME_CODE = "bridge"
LANGUAGES = ("en", "da", "uk", "ar", "fa", "so", "ti", "tr", "pl", "ru")
"""Phone languages of the mentees; the language menu offers the phone's language first."""
TYPED = ("Amina", "Yusuf", "Aarhus", "Odense", "Syrien", "Arabisk, engelsk", "Kyiv", "Mogadishu")


@dataclass
class Step:
    kind: str  # start, tap, toggle or typed
    latency: float | None  # None: the answer never came (lost)
    evidence: str = ""  # for a lost step: what was answered and what came instead
    error_reply: bool = False  # lost because the bot answered "something went wrong"
    at: float = 0.0  # when the person acted (the benchmark's clock)


def actions(delivery: Delivery) -> dict[str, list[str]]:
    """The survey buttons of a message by action ("s:<action>:<run>:<question>:<option>")."""
    found: dict[str, list[str]] = {}
    for data in delivery.buttons:
        parts = data.split(":")
        if len(parts) == 5 and parts[0] == "s":
            found.setdefault(parts[1], []).append(data)
    return found


def shown(delivery: Delivery) -> tuple[object, ...]:
    """What the person sees of a message: a tick on a button changes only its label."""
    return (delivery.message_id, delivery.text, delivery.buttons, delivery.labels)


class Wording:
    """The consent and the intake's closing message in every language, to recognise them."""

    def __init__(self, catalogs: Catalogs) -> None:
        self.consent = {
            catalogs.gettext(code, texts.CONSENT.message): code for code in catalogs.languages
        }
        self.closing = {catalogs.gettext(code, texts.INTAKE_DONE.message) for code in LANGUAGES}
        self.failure = {catalogs.gettext(code, SOMETHING_WENT_WRONG.message) for code in LANGUAGES}


class Person(ABC):
    """Someone in a private chat with the bot, who acts and waits for the bot's answer."""

    def __init__(
        self, server: RecordingServer, user_id: int, timeout: float, language: str = "en"
    ) -> None:
        self.server = server
        self.user = server.user(user_id, f"P{user_id}", language_code=language)
        self.log: ChatLog = server.chat(user_id)
        self.timeout = timeout
        self.finished = False
        self.passed: list[Delivery] = []
        """What came since the last action and was not the answer waited for."""

    @abstractmethod
    async def step(self) -> Step:
        """Act once and wait for the bot's answer (each kind of person acts its own way)."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def answer(self, is_answer: object, since: float) -> Delivery | None:
        """The first delivery to this chat that ``is_answer``, or None after the timeout.
        Deliveries seen are dropped: they are answers or the bot's echoes of the action."""
        log, deadline = self.log, since + self.timeout
        self.passed = []
        while True:
            while log.deliveries:
                delivery = log.deliveries.pop(0)
                if is_answer(delivery):  # type: ignore[operator]
                    return delivery
                self.passed.append(delivery)
            log.changed.clear()
            remaining = deadline - self.now()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(log.changed.wait(), remaining)
            except TimeoutError:
                return None


class Mentee(Person):
    """A mentee who joins by the deep link and answers the intake, choosing by a seeded draw.

    She taps a choice (now and then "skip" or "prefer not to say" where offered), ticks one or
    two options of a multi-choice question before "done", and types a short text where a
    question asks for one; never "back", "why" or "talk to a person".
    """

    def __init__(
        self,
        server: RecordingServer,
        user_id: int,
        wording: Wording,
        rng: random.Random,
        timeout: float,
    ) -> None:
        super().__init__(server, user_id, timeout, language=rng.choice(LANGUAGES))
        self.wording = wording
        self.rng = rng
        self.prompt: Delivery | None = None
        self.ticked: dict[str, int] = {}
        self.lost = False

    def _is_answer(self, acted: Delivery | None) -> object:
        def is_answer(delivery: Delivery) -> bool:
            if delivery.text in self.wording.failure:
                return True  # the bot gave up on the update: the question will not come
            if any(closing in delivery.text for closing in self.wording.closing):
                return True
            if not actions(delivery):
                return False  # an echo of the answer, a keyboard taken away
            return acted is None or shown(delivery) != shown(acted)

        return is_answer

    async def start(self) -> Step:
        began = self.now()
        await self.user.send_command("/start", PROGRAMME_CODE)
        return await self._await_answer("start", began, None)

    async def step(self) -> Step:
        """Answer the question on screen; the intake is over when ``finished`` is set."""
        prompt = self.prompt
        assert prompt is not None and not self.finished
        found = actions(prompt)
        kind, began = "tap", self.now()
        if "l" in found:
            await self.user.tap_raw(found["l"][0], prompt.message_id)
        elif "c" in found:
            yes = next(data for data in found["c"] if data.endswith(":1"))
            await self.user.tap_raw(yes, prompt.message_id)
        elif "t" in found:
            question = found["t"][0].rsplit(":", 1)[0]
            wanted = self.ticked.setdefault(question, self.rng.randint(1, 2))
            labels = dict(zip(prompt.buttons, prompt.labels, strict=True))
            ticked = [data for data in found["t"] if labels[data].startswith("✓")]
            if len(ticked) < wanted:
                kind = "toggle"
                untouched = [data for data in found["t"] if data not in ticked]
                await self.user.tap_raw(self.rng.choice(untouched), prompt.message_id)
            else:
                await self.user.tap_raw(found["d"][0], prompt.message_id)
        elif "o" in found or "n" in found:
            choices = found.get("o") or found["n"]
            others = found.get("s", []) + found.get("p", [])
            pick = self.rng.choice(others if others and self.rng.random() < 0.1 else choices)
            await self.user.tap_raw(pick, prompt.message_id)
        else:
            kind = "typed"
            await self.user.send_text(self.rng.choice(TYPED))
        return await self._await_answer(kind, began, prompt)

    async def _await_answer(self, kind: str, began: float, acted: Delivery | None) -> Step:
        answer = await self.answer(self._is_answer(acted), began)
        if answer is None or answer.text in self.wording.failure:
            self.lost = self.finished = True
            came = [*self.passed, *([answer] if answer else [])]
            told = "; ".join(f"{d.method} {d.text[:40]!r}" for d in came) or "nothing"
            answered = acted.text.split("\n\n")[:2] if acted else "/start"
            evidence = f"user {self.user.id}, {kind} on {answered}: came {told}"
            return Step(kind, None, evidence, error_reply=answer is not None, at=began)
        if any(closing in answer.text for closing in self.wording.closing):
            self.finished = True
        self.prompt = answer
        return Step(kind, answer.at - began, at=began)


class Chatter(Person):
    """Someone writing to the echo bot: each text waits for its echo."""

    def __init__(self, server: RecordingServer, user_id: int, timeout: float) -> None:
        super().__init__(server, user_id, timeout)
        self.sent = 0

    async def step(self) -> Step:
        self.sent += 1
        said = f"hello {self.sent}"
        began = self.now()
        await self.user.send_text(said)
        answer = await self.answer(lambda delivery: delivery.text == said, began)
        return Step("typed", None if answer is None else answer.at - began)
