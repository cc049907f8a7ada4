"""The routers in the order they are asked; the catch-all comes last."""

from aiogram import Router

from handlers.telegram import errors, fallback, survey

ROUTERS: list[Router] = [errors.router, survey.router, fallback.router]
