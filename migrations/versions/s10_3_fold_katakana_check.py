"""``kosodate_fold`` looks for katakana before it maps them to hiragana.

``kosodate_fold`` (migration ``i6_search``) lower-cases a text, maps katakana to hiragana with
``translate`` and drops separators. PostgreSQL's ``translate`` compares each character of the text
with each character of its first list in turn (86 katakana here), so an address of 30 characters
costs ~2,500 comparisons, nearly all of them for kanji and digits that no list holds. Every shop a
load writes runs it once, in the generated column ``search_text``: ~4.7 us a row, 5-7% of a first
load's database CPU (bench/results/ingest_bench.md, 2026-12-05, seventh session).

Now a regular-expression test over the same code-point range comes first; only a text that holds a
katakana is translated (~4% of the bench's addresses, more among real ones: ケ in 霞ケ関), and the lower
case is taken after the mapping. The two steps commute (no katakana has a case, and no letter
lower-cases to a katakana), so the result is the same for every text; the function is replaced in
place (the stored ``search_text`` values stay as they are). ~0.8 us a row.

Revision ID: s10_3_fold_katakana_check
Revises: s9_3_name_codes_reading_pairs
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "s10_3_fold_katakana_check"
down_revision: str | Sequence[str] | None = "s9_3_name_codes_reading_pairs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in i6_search (a migration's body stays as it ran, so they are spelt here again).
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7))  # ァ .. ヶ
HIRAGANA = "".join(chr(c - 0x60) for c in range(0x30A1, 0x30F7))
DROP = r"[\s\-・･·.,、。''’\"“”()\[\]「」『』【】/&!?]+"

FOLD_CHECKED = (
    f"regexp_replace(lower(CASE WHEN value ~ '[{KATAKANA[0]}-{KATAKANA[-1]}]' "
    f"THEN translate(value, '{KATAKANA}', '{HIRAGANA}') ELSE value END), '{DROP}', '', 'g')"
)
FOLD_BEFORE = f"regexp_replace(translate(lower(value), '{KATAKANA}', '{HIRAGANA}'), '{DROP}', '', 'g')"


def _fold(body: str) -> None:
    # Run as written: the regular expressions hold colons that bind-parameter parsing would take.
    op.get_bind().exec_driver_sql(
        "CREATE OR REPLACE FUNCTION kosodate_fold(value text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT RETURN {body}"
    )


def upgrade() -> None:
    _fold(FOLD_CHECKED)


def downgrade() -> None:
    _fold(FOLD_BEFORE)
