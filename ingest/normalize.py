"""Normalise a raw row: Japanese text, identifiers, codes and dates. Bad values become rejections."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from geo.municipality import parse_code
from geo.text import clean, normalize_address, normalize_name, search_key
from ingest.models import NormalizedShop, RawRow, Rejection

CATEGORIES = ("discount", "consideration", "facility")
_LIST_SPLIT_RE = re.compile(r"[|,;、\s]+")
_POSTAL_RE = re.compile(r"^〒?\s*([0-9]{3})-?([0-9]{4})$")
_PHONE_RE = re.compile(r"^[0-9()+\-]{6,20}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")


def _opt(value: str) -> str | None:
    return value or None


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in _LIST_SPLIT_RE.split(clean(value).lower()) if v)


def postal_code(value: str) -> str | None:
    match = _POSTAL_RE.match(clean(value))
    return f"{match.group(1)}-{match.group(2)}" if match else None


def phone(value: str) -> str | None:
    text = clean(value).replace(" ", "")
    return text if _PHONE_RE.match(text) else None


def url(value: str) -> str | None:
    text = clean(value)
    return text if text.startswith(("http://", "https://")) and " " not in text else None


def parse_date(value: str) -> date:
    text = clean(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def derived_source_id(name: str, address: str) -> str:
    """A stable id for rows whose source has none: the folded name and address."""
    digest = hashlib.sha1(f"{search_key(name)}|{search_key(address)}".encode(), usedforsecurity=False)
    return f"nk:{digest.hexdigest()[:16]}"


def normalize(raw: RawRow) -> NormalizedShop | Rejection:
    f = raw.fields

    def reject(reason: str, field: str | None = None) -> Rejection:
        value = f.get(field) if field else None
        return Rejection(line=raw.line, reason=reason, field=field, value=value, raw=raw.original)

    name = normalize_name(f.get("name"))
    if not name:
        return reject("the shop has no name", "name")
    address = normalize_address(f.get("address"))
    has_point = bool(clean(f.get("lat")) or clean(f.get("lng")))
    if not address and not has_point:
        return reject("the shop has neither an address nor coordinates", "address")

    categories = _split(f.get("categories", ""))
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        return reject(
            f"unknown category {unknown[0]!r} (expected one of {', '.join(CATEGORIES)})", "categories"
        )
    try:
        code = parse_code(f.get("municipality_code"))
    except ValueError as exc:
        return reject(str(exc), "municipality_code")
    registered_on = None
    if clean(f.get("registered_on")):
        try:
            registered_on = parse_date(f["registered_on"])
        except ValueError:
            return reject("registered_on is not a date (YYYY-MM-DD)", "registered_on")

    flags: list[str] = []
    pc = postal_code(f.get("postal_code", ""))
    if clean(f.get("postal_code")) and pc is None:
        flags.append("bad_postal_code")
    tel = phone(f.get("phone", ""))
    if clean(f.get("phone")) and tel is None:
        flags.append("bad_phone")
    link = url(f.get("url", ""))
    if clean(f.get("url")) and link is None:
        flags.append("bad_url")

    source_id = clean(f.get("source_id")) or derived_source_id(name, address)
    return NormalizedShop(
        line=raw.line,
        source=clean(f.get("source")) or raw.source,
        source_id=source_id,
        name=name,
        name_kana=_opt(normalize_name(f.get("name_kana"))),
        address=address,
        building=_opt(normalize_address(f.get("building"))),
        postal_code=pc,
        phone=tel,
        url=link,
        hours=_opt(clean(f.get("hours"))),
        closed_days=_opt(clean(f.get("closed_days"))),
        perk_text=_opt(clean(f.get("perk_text"))),
        municipality_code=code,
        declared_categories=categories,
        declared_amenities=_split(f.get("amenities", "")),
        flags=tuple(flags),
        lat=_opt(clean(f.get("lat"))),
        lng=_opt(clean(f.get("lng"))),
        registered_on=registered_on,
    )
