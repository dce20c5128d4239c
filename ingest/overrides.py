"""Operator overrides of a shop's tags, stored in ``tag_overrides`` and applied on top of what ingest derived.

The shop row keeps everything needed to undo an override: a removed tag stays in ``shops.tags`` as a
``removed`` entry holding its original reason. Applying is idempotent, so the pipeline runs it after
every load and a re-ingest keeps the operator's word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from ingest.errors import IngestError
from search.tables import shops, tag_overrides
from search.taxonomy import Taxonomy, builtin_taxonomy

KINDS = ("category", "amenity")
OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Override:
    action: str  # "add" | "remove"
    kind: str
    value: str
    reason: str


def parse_ref(ref: str, taxonomy: Taxonomy | None = None) -> tuple[str, str]:
    """``amenity:nursing_room`` -> (kind, value), checked against the taxonomy."""
    taxonomy = taxonomy or builtin_taxonomy()
    kind, sep, value = ref.strip().partition(":")
    if not sep or kind not in KINDS:
        raise IngestError(f"{ref!r}: write category:<name> or amenity:<name>")
    if not taxonomy.knows(kind, value):
        known = sorted(taxonomy.categories if kind == "category" else taxonomy.amenities)
        raise IngestError(f"{ref!r}: unknown {kind}; known: {', '.join(known)}")
    return kind, value


def rebuild(
    tags: Sequence[dict[str, Any]], overrides: Iterable[Override], taxonomy: Taxonomy | None = None
) -> list[dict[str, Any]]:
    """The derived tags with the overrides applied in order (pure; idempotent on its own output)."""
    taxonomy = taxonomy or builtin_taxonomy()
    work: list[dict[str, Any]] = []
    for t in tags:
        if t.get("kind") == "removed" and t.get("source") == OPERATOR:
            kind, _, value = str(t["value"]).partition(":")
            work.append({"kind": kind, "value": value, "why": t.get("was", "")})
        elif t.get("source") != OPERATOR:
            work.append(dict(t))
    removed: list[dict[str, Any]] = []

    def active(kind: str, value: str) -> dict[str, Any] | None:
        return next((t for t in work if t["kind"] == kind and t["value"] == value), None)

    for ov in overrides:
        why = f"operator: {ov.reason}"
        if ov.action == "add":
            if active(ov.kind, ov.value) is None:
                work.append({"kind": ov.kind, "value": ov.value, "why": why, "source": OPERATOR})
            amenity = taxonomy.amenities.get(ov.value) if ov.kind == "amenity" else None
            if amenity is not None and active("category", amenity.category) is None:
                implied = f"operator: amenity {ov.value} ({ov.reason})"
                work.append(
                    {"kind": "category", "value": amenity.category, "why": implied, "source": OPERATOR}
                )
        else:
            tag = active(ov.kind, ov.value)
            if tag is None:
                continue
            work.remove(tag)
            if tag.get("source") != OPERATOR:
                removed.append({"kind": "removed", "value": f"{ov.kind}:{ov.value}", "why": why,
                                "source": OPERATOR, "was": tag.get("why", "")})  # fmt: skip
    return work + removed


def _values(tags: Sequence[dict[str, Any]], kind: str) -> list[str]:
    return sorted({str(t["value"]) for t in tags if t.get("kind") == kind})


def _overrides_of(conn: Connection, shop_id: int) -> list[Override]:
    rows = conn.execute(
        select(tag_overrides.c.action, tag_overrides.c.kind, tag_overrides.c.value, tag_overrides.c.reason)
        .where(tag_overrides.c.shop_id == shop_id)
        .order_by(tag_overrides.c.id)
    )
    return [Override(r.action, r.kind, r.value, r.reason) for r in rows]


def apply_overrides(
    conn: Connection, *, shop_ids: Sequence[int] | None = None, programme_id: int | None = None
) -> int:
    """Re-apply the stored overrides to their shops; returns how many shops were rewritten."""
    stmt = select(tag_overrides.c.shop_id).distinct()
    if shop_ids is not None:
        stmt = stmt.where(tag_overrides.c.shop_id.in_(list(shop_ids)))
    if programme_id is not None:
        stmt = stmt.join(shops, shops.c.id == tag_overrides.c.shop_id).where(
            shops.c.programme_id == programme_id
        )
    ids = sorted({int(r[0]) for r in conn.execute(stmt)} | set(shop_ids or ()))
    changed = 0
    for shop_id in ids:
        current = conn.execute(select(shops.c.tags).where(shops.c.id == shop_id)).scalar_one_or_none()
        if current is None:
            continue
        tags = rebuild(list(current), _overrides_of(conn, shop_id))
        if tags == list(current):
            continue
        conn.execute(
            shops.update()
            .where(shops.c.id == shop_id)
            .values(tags=tags, categories=_values(tags, "category"), amenities=_values(tags, "amenity"))
        )
        changed += 1
    return changed


def _row(shop_id: int, action: str, kind: str, value: str, reason: str, by: str | None) -> dict[str, Any]:
    return {"shop_id": shop_id, "action": action, "kind": kind, "value": value, "reason": reason.strip(),
            "created_by": by}  # fmt: skip


def override(
    engine: Engine,
    shop_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    reason: str,
    created_by: str | None = None,
) -> list[dict[str, Any]]:
    """Store an operator's additions/removals for a shop and apply them; returns the shop's tags."""
    if not reason.strip():
        raise IngestError("an override needs a reason (--reason)")
    if not add and not remove:
        raise IngestError("nothing to do: give --add and/or --remove")
    changes = [("add", *parse_ref(r)) for r in add] + [("remove", *parse_ref(r)) for r in remove]
    with engine.begin() as conn:
        if conn.execute(select(shops.c.id).where(shops.c.id == shop_id)).first() is None:
            raise IngestError(f"no shop with id {shop_id}")
        conn.execute(
            tag_overrides.insert(),
            [
                {
                    "shop_id": shop_id,
                    "action": a,
                    "kind": k,
                    "value": v,
                    "reason": reason.strip(),
                    "created_by": created_by,
                }
                for a, k, v in changes
            ],
        )
        apply_overrides(conn, shop_ids=[shop_id])
        return list(conn.execute(select(shops.c.tags).where(shops.c.id == shop_id)).scalar_one())


def clear(engine: Engine, shop_id: int) -> list[dict[str, Any]]:
    """Forget a shop's overrides and restore the derived tags."""
    with engine.begin() as conn:
        current = conn.execute(select(shops.c.tags).where(shops.c.id == shop_id)).scalar_one_or_none()
        if current is None:
            raise IngestError(f"no shop with id {shop_id}")
        conn.execute(tag_overrides.delete().where(tag_overrides.c.shop_id == shop_id))
        tags = rebuild(list(current), [])
        conn.execute(
            shops.update()
            .where(shops.c.id == shop_id)
            .values(tags=tags, categories=_values(tags, "category"), amenities=_values(tags, "amenity"))
        )
        return tags


def listed(engine: Engine, shop_id: int) -> tuple[list[dict[str, Any]], list[Override]]:
    with engine.connect() as conn:
        current = conn.execute(select(shops.c.tags).where(shops.c.id == shop_id)).scalar_one_or_none()
        if current is None:
            raise IngestError(f"no shop with id {shop_id}")
        return list(current), _overrides_of(conn, shop_id)
