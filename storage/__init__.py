"""Storage: SQLAlchemy models, sessions, repositories, Alembic migrations and exports."""
