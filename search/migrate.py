"""Apply Alembic migrations programmatically (the migrations ship inside the distribution)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("migrations")))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = url
    return cfg


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The head revisions this version of the code expects the database to be at."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> set[str]:
    """The revisions the database is at (empty before the first migration)."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415 - only needed for this check

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
            if not exists:
                return set()
            return {str(r) for r in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()}
    finally:
        engine.dispose()
