"""Database: SQLAlchemy 2 models, engine and Alembic migrations."""
