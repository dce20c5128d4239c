"""The jurisdiction stage: which programme a placed shop belongs to, and hand-offs to other programmes.

The municipality comes from the file's code when it has one, else from the address read against the
municipality master and gazetteer, else from point-in-polygon (see ``ingest.locate``).
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.municipality import lg_code, prefecture_of
from geo.prefectures import PREFECTURES, split_prefecture
from ingest.models import GeocodedShop, Handoff, Rejection
from ingest.programmes import Programme


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    municipality_code: str | None
    lg_code: str | None
    handoff: Handoff | None = None


def _code_and_basis(shop: GeocodedShop) -> tuple[str | None, str]:
    """The municipality code and where it came from: the file, the address, or the point."""
    if shop.shop.municipality_code:
        return shop.shop.municipality_code, "municipality code in the file"
    if shop.address_municipality_code:
        return shop.address_municipality_code, "address (municipality master / gazetteer)"
    if shop.point_municipality_code:
        return shop.point_municipality_code, "point-in-polygon"
    return None, "address text"


def decide(shop: GeocodedShop, programme: Programme) -> Jurisdiction | Rejection:
    s = shop.shop
    code, basis = _code_and_basis(shop)
    pref_from_address, rest = split_prefecture(s.address)
    pref = prefecture_of(code) if code else pref_from_address
    if code and pref_from_address and pref_from_address != prefecture_of(code):
        return Rejection(
            s.line,
            f"the address is in {PREFECTURES[pref_from_address]} but municipality code {code} is in "
            f"{PREFECTURES.get(prefecture_of(code), '?')}",
            "municipality_code",
            code,
        )
    six = lg_code(code) if code else None

    for exclusion in programme.exclusions:
        by_code = code is not None and code in exclusion.municipality_codes
        by_text = any(rest.startswith(p) or s.address.startswith(p) for p in exclusion.address_prefixes)
        if by_code or by_text:
            evidence = {"address": s.address, "municipality_code": code or "", "lg_code": six or ""}
            if shop.placed:
                evidence["point"] = f"{shop.lat},{shop.lng}"
                evidence["precision"] = shop.precision or ""
            if shop.point_municipality_code:
                evidence["point_municipality_code"] = shop.point_municipality_code
            evidence["matched"] = basis if by_code else "address text"
            return Jurisdiction(code, six, Handoff(exclusion.handoff_to, exclusion.reason, evidence))

    if pref is not None and programme.prefectures and pref not in programme.prefectures:
        covers = "、".join(PREFECTURES[p] for p in programme.prefectures)
        return Rejection(
            s.line,
            f"outside the programme's area: the shop is in {PREFECTURES.get(pref, pref)}, "
            f"{programme.code} covers {covers} (from the {basis})",
            "address",
            s.address,
        )
    if code and programme.municipalities and code not in programme.municipalities:
        return Rejection(
            s.line,
            f"outside the programme's area: municipality {code} (from the {basis})",
            "municipality_code",
            code,
        )
    return Jurisdiction(code, six)
