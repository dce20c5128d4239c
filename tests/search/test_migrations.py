"""Every migration goes down to an empty schema and up again cleanly (i6_search's functions included)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from search.keys import text_codes
from search.migrate import alembic_config, upgrade
from search.settings import DbSettings


def test_down_and_up_again(db_settings: DbSettings, engine: Engine) -> None:
    url = db_settings.sqlalchemy_url()
    command.downgrade(alembic_config(url), "base")
    with engine.connect() as conn:
        columns = set(
            conn.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'shops'")
            )
            .scalars()
            .all()
        )
    assert not columns  # no shops table at all
    upgrade(url)
    with engine.connect() as conn:
        grams = conn.execute(text("SELECT kosodate_grams('すしろー')")).scalar_one()
    assert {"す", "すし", "しろ", "ろー"} <= set(grams)
    with engine.connect() as conn:
        codes = conn.execute(text("SELECT kosodate_text_codes('すしろー', 0)")).scalar_one()
    assert codes == sorted(set(text_codes("すしろー")))
