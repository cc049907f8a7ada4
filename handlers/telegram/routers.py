"""The routers in the order they are asked; the catch-all comes last."""

from aiogram import Router

from handlers.telegram import coordination, elsewhere, errors, fallback, survey


def create_routers() -> list[Router]:
    """Fresh routers for one dispatcher (an aiogram router belongs to one parent only)."""
    return [
        errors.create_router(),
        elsewhere.create_router(),  # a press in another chat reaches no router after it
        coordination.create_router(),
        survey.create_router(),
        fallback.create_router(),
    ]
