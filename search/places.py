"""Pure builders for what the family page offers to choose from: programmes (for "my card") and the
municipalities that have shops (the fallback when the browser cannot tell where the family is)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, select

from search.tables import ShopStatus, programmes, shops


def programme_choices() -> Select[Any]:
    return select(programmes.c.code, programmes.c.name, programmes.c.name_en).order_by(programmes.c.code)


def municipality_choices() -> Select[Any]:
    """One row per municipality with live, placed shops; its point is the centre of those shops."""
    centre = func.ST_Centroid(func.ST_Collect(func.geometry(shops.c.location)))
    return (
        select(
            shops.c.municipality_code.label("code"),
            func.min(shops.c.prefecture).label("prefecture"),
            func.min(shops.c.municipality).label("name"),
            func.min(shops.c.address).label("sample_address"),
            func.count().label("shops"),
            func.ST_Y(centre).label("lat"),
            func.ST_X(centre).label("lng"),
        )
        .where(
            and_(
                shops.c.status == ShopStatus.ACTIVE.value,
                shops.c.location.is_not(None),
                shops.c.municipality_code.is_not(None),
            )
        )
        .group_by(shops.c.municipality_code)
        .order_by(shops.c.municipality_code)
    )
