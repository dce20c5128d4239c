"""The schema as SQLAlchemy Core tables. Alembic migrations create it; this module only describes it."""

from __future__ import annotations

from enum import StrEnum

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()


class Precision(StrEnum):
    """How precisely a shop is placed, best first."""

    SOURCE = "source"
    BUILDING = "building"
    BLOCK = "block"
    TOWN = "town"
    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"


class Category(StrEnum):
    DISCOUNT = "discount"  # お得
    CONSIDERATION = "consideration"  # こころ配り
    FACILITY = "facility"  # 設備


class ShopStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CLOSED = "closed"


def _ts(name: str, *, default_now: bool = True, nullable: bool = False) -> Column[object]:
    return Column(
        name,
        DateTime(timezone=True),
        server_default=func.now() if default_now else None,
        nullable=nullable,
    )


programmes = Table(
    "programmes",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("name_en", Text),
    Column("prefecture_codes", ARRAY(SmallInteger), nullable=False, server_default="{}"),
    Column("config", JSONB, nullable=False, server_default="{}"),
    _ts("updated_at"),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("programme_id", SmallInteger, ForeignKey("programmes.id"), nullable=False),
    Column("source_file", Text, nullable=False),
    Column("file_sha256", Text),
    Column("profile", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("status", Text, nullable=False),
    _ts("started_at"),
    _ts("finished_at", default_now=False, nullable=True),
    Column("rows", Integer, nullable=False, server_default="0"),
    Column("loaded", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("handed_off", Integer, nullable=False, server_default="0"),
    Column("pending_geocode", Integer, nullable=False, server_default="0"),
    Column("withdrawn", Integer, nullable=False, server_default="0"),
    Column("error", Text),
)

shops = Table(
    "shops",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # The references of a shop (programme, first and last run) are checked by statement-level
    # triggers, not foreign keys (migration s5_3_shop_refs); they are declared here for joins.
    Column("programme_id", SmallInteger, ForeignKey("programmes.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("name_kana", Text),
    Column("name_key", Text, nullable=False),
    Column("kana_key", Text),
    Column("address", Text, nullable=False),
    Column("prefecture", Text),
    Column("municipality", Text),
    Column("town", Text),
    Column("address_rest", Text),
    Column("building", Text),
    Column("postal_code", Text),
    Column("phone", Text),
    Column("url", Text),
    Column("hours", Text),
    Column("closed_days", Text),
    Column("perk_text", Text),
    Column("categories", ARRAY(Text), nullable=False, server_default="{}"),
    Column("amenities", ARRAY(Text), nullable=False, server_default="{}"),
    Column("tags", JSONB, nullable=False, server_default="[]"),
    Column("card_required", Boolean),
    Column("cards", ARRAY(Text), nullable=False, server_default="{}"),
    Column("multi_child", Boolean, nullable=False, server_default="false"),
    Column("nationwide", Boolean, nullable=False, server_default="false"),
    Column("municipality_code", Text),
    Column("lg_code", Text),
    Column("location", Geography("POINT", srid=4326, spatial_index=False)),
    Column("geocode_precision", Text),
    Column("geocode_source", Text),
    _ts("geocoded_at", default_now=False, nullable=True),
    Column("location_flags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("registered_on", Date),
    Column("expires_on", Date),
    Column("withdrawn_on", Date),  # effective date of a withdrawal (after any notice period)
    Column("closed_on", Date),  # closure reported by the municipality
    Column("status", Text, nullable=False, server_default=ShopStatus.ACTIVE.value),
    _ts("status_changed_at"),
    Column("content_hash", Text, nullable=False),
    Column("first_run_id", BigInteger, ForeignKey("ingest_runs.id")),
    Column("last_run_id", BigInteger, ForeignKey("ingest_runs.id")),
    _ts("created_at"),
    _ts("updated_at"),
    # Search (migration i6_search): the folded romaji reading, and the generated text one index covers.
    # Migration s2_6_name_grams adds text_pattern_ops prefix indexes on the three keys
    # (search.queries.names_first_search).
    Column("romaji_key", Text),
    Column(
        "search_text",
        Text,
        Computed(
            "name_key || ' ' || coalesce(kana_key, '') || ' ' || coalesce(romaji_key, '') || ' ' || "
            "kosodate_fold(coalesce(prefecture, '') || coalesce(municipality, '') || address)",
            persisted=True,
        ),
    ),
    # Migration s3_3_gram_codes: the names' and the address's characters and pairs as integer codes
    # (search.keys), written by the loader (a trigger fills them for rows written without), each
    # under a GIN index (``shops_name_codes``, ``shops_address_codes``).
    Column("name_codes", ARRAY(BigInteger)),
    Column("address_codes", ARRAY(BigInteger)),
)

rejected_rows = Table(
    "rejected_rows",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, ForeignKey("ingest_runs.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("field", Text),
    Column("reason", Text, nullable=False),
    Column("value", Text),
    Column("raw", JSONB, nullable=False, server_default="{}"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("from_programme_id", SmallInteger, ForeignKey("programmes.id"), nullable=False),
    Column("to_programme", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("municipality_code", Text),
    Column("location", Geography("POINT", srid=4326, spatial_index=False)),
    Column("reason", Text, nullable=False),
    Column("evidence", JSONB, nullable=False, server_default="{}"),
    Column("record", JSONB, nullable=False, server_default="{}"),
    Column("content_hash", Text, nullable=False),
    Column("first_run_id", BigInteger, ForeignKey("ingest_runs.id")),
    Column("last_run_id", BigInteger, ForeignKey("ingest_runs.id")),
    _ts("created_at"),
    _ts("updated_at"),
)

shop_changes = Table(
    "shop_changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("shop_id", BigInteger, nullable=False),
    Column("programme_id", SmallInteger, nullable=False),
    Column("change", Text, nullable=False),
    Column("run_id", BigInteger),
    _ts("changed_at"),
    Column("reason", Text),  # withdrawn | expired | closed | extended
    Column("effective_on", Date),
)

# Operator overrides of a shop's tags (migration i5_tags); applied again after every ingest.
tag_overrides = Table(
    "tag_overrides",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("shop_id", BigInteger, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("action", Text, nullable=False),  # "add" | "remove"
    Column("kind", Text, nullable=False),  # "category" | "amenity"
    Column("value", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text),
    _ts("created_at"),
)

# --- geocoding data (migration i4_geo) ---------------------------------------------------------------

municipalities = Table(
    "municipalities",
    metadata,
    Column("code", Text, primary_key=True),
    Column("lg_code", Text, nullable=False),
    Column("prefecture_code", SmallInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("parent_code", Text),
    Column("lat", Float),
    Column("lng", Float),
)

gazetteer_towns = Table(
    "gazetteer_towns",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("municipality_code", Text, nullable=False),
    Column("town", Text, nullable=False),
    Column("koaza", Text, nullable=False, server_default=""),
    Column("level", Text, nullable=False, server_default="town"),
    Column("lat", Float, nullable=False),
    Column("lng", Float, nullable=False),
    Column("source", Text, nullable=False),
)

boundaries = Table(
    "boundaries",
    metadata,
    Column("code", Text, primary_key=True),
    Column("prefecture", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    Column("source", Text, nullable=False),
)

geocode_cache = Table(
    "geocode_cache",
    metadata,
    Column("address_key", Text, primary_key=True),
    Column("address", Text, nullable=False),
    Column("location", Geography("POINT", srid=4326, spatial_index=False)),
    Column("precision", Text),
    Column("geocoder", Text, nullable=False),
    Column("municipality_code", Text),
    Column("matched", Text),
    _ts("geocoded_at"),
)
