"""The routers in the order they are asked; the catch-all comes last. A handler's failure is
not caught here: it reaches the inbox, which tries the update again or parks it (bot/inbox.py)."""

from aiogram import Router

from handlers.telegram import coordination, elsewhere, fallback, survey


def create_routers() -> list[Router]:
    """Fresh routers for one dispatcher (an aiogram router belongs to one parent only)."""
    return [
        elsewhere.create_router(),  # a press in another chat reaches no router after it
        coordination.create_router(),
        survey.create_router(),
        fallback.create_router(),
    ]
