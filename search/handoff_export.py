"""Export the hand-off table for the receiving programme's office (CSV with BOM, or JSON)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Connection, cast, func, select

from search.exports import safe_cell
from search.tables import handoffs, programmes

COLUMNS = (
    "source", "source_id", "name", "address", "municipality_code", "lg_code", "lat", "lng", "precision",
    "reason", "matched", "from_programme", "first_seen_run", "last_seen_run", "updated_at",
)  # fmt: skip


def handoff_rows(conn: Connection, to_programme: str) -> list[dict[str, Any]]:
    geom = cast(handoffs.c.location, Geometry)
    query = (
        select(
            handoffs.c.source, handoffs.c.source_id, handoffs.c.name, handoffs.c.address,
            handoffs.c.municipality_code, handoffs.c.evidence, handoffs.c.record, handoffs.c.reason,
            func.ST_Y(geom).label("lat"), func.ST_X(geom).label("lng"),
            programmes.c.code.label("from_programme"),
            handoffs.c.first_run_id, handoffs.c.last_run_id, handoffs.c.updated_at,
        )
        .join(programmes, programmes.c.id == handoffs.c.from_programme_id)
        .where(handoffs.c.to_programme == to_programme)
        .order_by(handoffs.c.municipality_code, handoffs.c.source_id)
    )  # fmt: skip
    out = []
    for r in conn.execute(query):
        evidence = r.evidence or {}
        out.append(
            {
                "source": r.source, "source_id": r.source_id, "name": r.name, "address": r.address,
                "municipality_code": r.municipality_code, "lg_code": evidence.get("lg_code") or None,
                "lat": r.lat, "lng": r.lng, "precision": (r.record or {}).get("precision"),
                "reason": r.reason, "matched": evidence.get("matched"), "from_programme": r.from_programme,
                "first_seen_run": r.first_run_id, "last_seen_run": r.last_run_id,
                "updated_at": r.updated_at.isoformat() if r.updated_at else None,
                "record": r.record, "evidence": evidence,
            }
        )  # fmt: skip
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """UTF-8 with BOM (what Excel in Japan expects), one row per hand-off."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:  # text from registry files must not run as a spreadsheet formula
        writer.writerow({k: safe_cell(v) if isinstance(v, str) else v for k, v in row.items()})
    return "\ufeff" + buffer.getvalue()


def to_json(rows: list[dict[str, Any]], to_programme: str) -> str:
    return json.dumps(
        {"to_programme": to_programme, "count": len(rows), "handoffs": rows}, ensure_ascii=False, indent=1
    )
