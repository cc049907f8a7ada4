"""The Telegram channel (aiogram 3): thin routers, one per feature, in `routers.ROUTERS` order."""
