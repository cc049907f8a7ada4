"""mentorbot core: channel-neutral survey engine, settings, i18n and command line.

Nothing in this package imports aiogram or FastAPI (see DESIGN.md, direction of imports).
"""
