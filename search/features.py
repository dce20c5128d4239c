"""Pure builders for the public read side: OGC API Features items, the change feed, hand-offs, reports.

Each builder returns a statement; the API (async) or the CLI (sync) runs it. GeoJSON is built by
PostgreSQL (``json_build_object`` + ``ST_AsGeoJSON``) so the hot path does no per-row work in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by
from sqlalchemy.types import Text

from search.queries import ShopQuery, in_categories, in_programme, live, with_amenities
from search.tables import handoffs, ingest_runs, programmes, rejected_rows, shop_changes, shops

GEOJSON_DECIMALS = 7


@dataclass(frozen=True, slots=True)
class ItemsQuery:
    """An OGC items request after the API has checked its bounds."""

    bbox: tuple[float, float, float, float] | None = None
    categories: tuple[str, ...] = ()
    amenities: tuple[str, ...] = ()
    programme: str | None = None
    municipality: str | None = None
    limit: int = 100
    offset: int = 0

    def shop_query(self) -> ShopQuery:
        """The shared filters (category, amenity, programme) are the search's own functions."""
        return ShopQuery(categories=self.categories, amenities=self.amenities, programme=self.programme)


def geometry() -> ColumnElement[Any]:
    return func.geometry(shops.c.location)


# One small function per filter that the search module does not already have.


def within_bbox(query: ItemsQuery) -> ColumnElement[bool] | None:
    if query.bbox is None:
        return None
    envelope = func.ST_MakeEnvelope(
        bindparam("minx"), bindparam("miny"), bindparam("maxx"), bindparam("maxy"), 4326
    )
    # && uses the geometry index; ST_Intersects keeps points exactly on the edge.
    return and_(geometry().op("&&")(envelope), func.ST_Intersects(geometry(), envelope))


def in_municipality(query: ItemsQuery) -> ColumnElement[bool] | None:
    if not query.municipality:
        return None
    return shops.c.municipality_code == bindparam("municipality", query.municipality)


def item_filters(query: ItemsQuery) -> list[ColumnElement[bool]]:
    shared = query.shop_query()
    clauses = [
        within_bbox(query),
        in_categories(shared),
        with_amenities(shared),
        in_programme(shared),
        in_municipality(query),
    ]
    return [live(), shops.c.location.is_not(None), *(c for c in clauses if c is not None)]


def items_params(query: ItemsQuery) -> dict[str, object]:
    params: dict[str, object] = {"limit": query.limit, "offset": query.offset}
    if query.bbox is not None:
        params |= dict(zip(("minx", "miny", "maxx", "maxy"), query.bbox, strict=True))
    return params


def _base() -> Any:
    return shops.join(programmes, programmes.c.id == shops.c.programme_id)


def feature_properties() -> ColumnElement[Any]:
    return func.json_build_object(
        "name",
        shops.c.name,
        "name_kana",
        shops.c.name_kana,
        "address",
        shops.c.address,
        "building",
        shops.c.building,
        "phone",
        shops.c.phone,
        "url",
        shops.c.url,
        "perk_text",
        shops.c.perk_text,
        "categories",
        shops.c.categories,
        "amenities",
        shops.c.amenities,
        "card_required",
        shops.c.card_required,
        "cards",
        shops.c.cards,
        "programme",
        programmes.c.code,
        "municipality_code",
        shops.c.municipality_code,
        "lg_code",
        shops.c.lg_code,
        "precision",
        shops.c.geocode_precision,
        "geocode_source",
        shops.c.geocode_source,
        "registered_on",
        shops.c.registered_on,
        "expires_on",
        shops.c.expires_on,
        "updated_at",
        shops.c.updated_at,
    )


def _geometry_json() -> ColumnElement[Any]:
    return func.ST_AsGeoJSON(geometry(), GEOJSON_DECIMALS).cast(JSON)


def feature() -> ColumnElement[Any]:
    return func.json_build_object(
        "type", "Feature", "id", shops.c.id, "geometry", _geometry_json(), "properties", feature_properties()
    )


def items(query: ItemsQuery) -> Select[Any]:
    """A page of features in a deterministic order (by id)."""
    return (
        select(cast(feature(), Text).label("feature"))
        .select_from(_base())
        .where(*item_filters(query))
        .order_by(shops.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def items_count(query: ItemsQuery, cap: int) -> Select[Any]:
    """How many features match, counting no further than ``cap + 1`` (so it stays cheap)."""
    inner = select(literal(1)).select_from(_base()).where(*item_filters(query)).limit(cap + 1).subquery()
    return select(func.count()).select_from(inner)


def items_page(query: ItemsQuery, cap: int) -> Select[Any]:
    """One round trip: the page's features joined into JSON text, how many, and the capped match count.

    ``matched`` is NULL when counting is off (``cap`` 0); above ``cap`` it is ``cap + 1``.
    """
    page = (
        select(shops.c.id, cast(feature(), Text).label("feature"))
        .select_from(_base())
        .where(*item_filters(query))
        .order_by(shops.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    matched = items_count(query, cap).scalar_subquery() if cap else literal(None)
    return select(
        func.coalesce(func.string_agg(page.c.feature, aggregate_order_by(literal(","), page.c.id)), "").label(
            "features"
        ),
        func.count().label("returned"),
        matched.label("matched"),
    ).select_from(page)


def item() -> Select[Any]:
    return (
        select(cast(feature(), Text).label("feature"))
        .select_from(_base())
        .where(shops.c.id == bindparam("shop_id"), live(), shops.c.location.is_not(None))
    )


def extent() -> Select[Any]:
    """The collection's spatial and temporal extent."""
    return select(
        func.ST_XMin(func.ST_Extent(geometry())).label("minx"),
        func.ST_YMin(func.ST_Extent(geometry())).label("miny"),
        func.ST_XMax(func.ST_Extent(geometry())).label("maxx"),
        func.ST_YMax(func.ST_Extent(geometry())).label("maxy"),
        func.min(shops.c.registered_on).label("first"),
        func.max(shops.c.updated_at).label("last"),
    ).where(live(), shops.c.location.is_not(None))


# The change feed: ordered by the change log's id, which is the cursor.


def changes(*, with_since: bool) -> Select[Any]:
    current = (
        select(
            shops.c.status,
            cast(feature(), Text).label("feature"),
        )
        .select_from(_base())
        .where(shops.c.id == shop_changes.c.shop_id)
        .lateral("cur")
    )
    change_programme = programmes.alias("change_programme")
    where = [shop_changes.c.id > bindparam("after_id")]
    if with_since:
        where.append(shop_changes.c.changed_at > bindparam("since"))
    return (
        select(
            shop_changes.c.id,
            shop_changes.c.shop_id,
            shop_changes.c.change,
            shop_changes.c.changed_at,
            shop_changes.c.run_id,
            change_programme.c.code.label("programme"),
            current.c.status,
            current.c.feature,
        )
        .select_from(
            shop_changes.join(
                change_programme, change_programme.c.id == shop_changes.c.programme_id
            ).outerjoin(current, literal(True))
        )
        .where(*where)
        .order_by(shop_changes.c.id)
        .limit(bindparam("limit"))
    )


def handoff_records() -> Select[Any]:
    return (
        select(
            handoffs.c.id,
            handoffs.c.to_programme,
            programmes.c.code.label("from_programme"),
            handoffs.c.source,
            handoffs.c.source_id,
            handoffs.c.name,
            handoffs.c.address,
            handoffs.c.municipality_code,
            func.ST_Y(func.geometry(handoffs.c.location)).label("lat"),
            func.ST_X(func.geometry(handoffs.c.location)).label("lng"),
            handoffs.c.reason,
            handoffs.c.evidence,
            handoffs.c.record,
            handoffs.c.updated_at,
        )
        .select_from(handoffs.join(programmes, programmes.c.id == handoffs.c.from_programme_id))
        .where(handoffs.c.to_programme == bindparam("to"), handoffs.c.id > bindparam("after_id"))
        .order_by(handoffs.c.id)
        .limit(bindparam("limit"))
    )


def run_report() -> Select[Any]:
    return (
        select(ingest_runs, programmes.c.code.label("programme"))
        .select_from(ingest_runs.join(programmes, programmes.c.id == ingest_runs.c.programme_id))
        .where(ingest_runs.c.id == bindparam("run_id"))
    )


def run_rejections() -> Select[Any]:
    return (
        select(
            rejected_rows.c.id,
            rejected_rows.c.line,
            rejected_rows.c.field,
            rejected_rows.c.reason,
            rejected_rows.c.value,
            rejected_rows.c.raw,
        )
        .where(rejected_rows.c.run_id == bindparam("run_id"), rejected_rows.c.id > bindparam("after_id"))
        .order_by(rejected_rows.c.id)
        .limit(bindparam("limit"))
    )
