"""What the GIN search indexes find, checked against a scan of the table."""

from __future__ import annotations

from sqlalchemy import Engine, text


def _found(engine: Engine, column: str, code: int, *, through_index: bool) -> int:
    """How many live shops hold ``code`` in ``column``: through its GIN index alone (every other
    index of shops dropped in a transaction that is rolled back, scans off), or by a scan."""
    query = f"SELECT count(*) FROM shops WHERE status = 'active' AND {column} @> ARRAY[:c]::bigint[]"
    with engine.connect() as conn:
        if through_index:
            others = conn.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = 'shops'::regclass AND NOT i.indisprimary AND NOT i.indisunique "
                    "AND c.relname <> :keep"
                ),
                {"keep": f"shops_{column}"},
            ).scalars()
            for index in list(others):
                conn.execute(text(f'DROP INDEX "{index}"'))
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        else:
            conn.execute(text("SET LOCAL enable_bitmapscan = off"))
            conn.execute(text("SET LOCAL enable_indexscan = off"))
        plan = "\n".join(conn.execute(text("EXPLAIN " + query), {"c": code}).scalars())
        assert (f"Bitmap Index Scan on shops_{column}" in plan) == through_index, plan
        found = int(conn.execute(text(query), {"c": code}).scalar_one())
        conn.rollback()
    return found


def assert_gin_finds_what_a_scan_finds(engine: Engine) -> None:
    with engine.connect() as conn:
        samples = conn.execute(
            text(
                "SELECT name_codes[1 + id % cardinality(name_codes)], "
                "address_codes[1 + id % cardinality(address_codes)] "
                "FROM shops WHERE status = 'active' ORDER BY id LIMIT 25"
            )
        ).all()
    assert samples
    for name_code, address_code in samples:
        for column, code in (("name_codes", name_code), ("address_codes", address_code)):
            found = _found(engine, column, code, through_index=True)
            assert found == _found(engine, column, code, through_index=False) > 0
