"""Migration i6_search goes down to 0001 and up again cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from search.migrate import alembic_config, upgrade
from search.settings import DbSettings


def test_down_and_up_again(db_settings: DbSettings, engine: Engine) -> None:
    url = db_settings.sqlalchemy_url()
    command.downgrade(alembic_config(url), "i6_search@-1")
    with engine.connect() as conn:
        columns = set(
            conn.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'shops'")
            )
            .scalars()
            .all()
        )
    assert "romaji_key" not in columns and "search_text" not in columns
    upgrade(url)
    with engine.connect() as conn:
        grams = conn.execute(text("SELECT kosodate_grams('すしろー')")).scalar_one()
    assert {"す", "すし", "しろ", "ろー"} <= set(grams)
