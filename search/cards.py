"""Which shops' perks apply to a family, given the card it holds.

The columns, filled by the tagging stage:

* ``cards``: the cards whose holders get the shop's 特典 (its own programme's card and cards the
  programme accepts, e.g. Aichi, Gifu, Mie and Nagoya accept each other's).
* ``nationwide``: the shop takes part in the nationwide common scheme (全国共通展開), so any
  participating programme's card is honoured.
* ``card_required``: ``True`` for a 特典 (the card must be shown), ``False`` for an 応援 that every
  family gets, card or not (a nursing room). ``NULL`` (not known) is treated as needing the card.
* ``multi_child``: the perk is only for multi-child households (Aichi's 多子世帯向け card, Ishikawa's
  3-children perks).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, bindparam, false, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from search.tables import shops


def card_clause(card: str, multi_child: bool) -> ColumnElement[bool]:
    """Shops whose perks apply to a family holding ``card`` (and the multi-child card if ``multi_child``)."""
    honoured = or_(
        shops.c.cards.contains(bindparam("card_list", [card], type_=ARRAY(Text))),
        shops.c.nationwide,
    )
    family_qualifies = or_(shops.c.multi_child.is_(false()), bindparam("family_multi_child", multi_child))
    return or_(shops.c.card_required.is_(false()), and_(honoured, family_qualifies))
