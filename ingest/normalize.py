"""Normalise a raw row: Japanese text, identifiers, codes and dates. Bad values become rejections."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit, urlunsplit

from geo.municipality import parse_code
from geo.prefectures import split_prefecture
from geo.text import clean, normalize_address, normalize_name, search_key
from ingest.models import NormalizedShop, RawRow, Rejection

CATEGORIES = ("discount", "consideration", "facility")
_LIST_SPLIT_RE = re.compile(r"[|,;、\s]+")
_POSTAL_RE = re.compile(r"^(?:〒|郵便番号|〒?\s*)?\s*([0-9]{3})-?([0-9]{4})$")
_DASHES_RE = re.compile("[\u2010-\u2015\u2212\u30fc\uff0d\uff70\u2500\ufe63]")
_PHONE_PREFIX_RE = re.compile(r"^(?:tel|電話|電話番号|phone)[.:：\s]*", re.IGNORECASE)
_PHONE_SHAPE_RE = re.compile(r"^[0-9]{2,5}-?[0-9]{1,4}-?[0-9]{3,4}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
# A value a spreadsheet turned into a date (a closed-days column that reads "2014/01/01").
_SPREADSHEET_DATE_RE = re.compile(r"^[0-9]{4}[/-][0-9]{1,2}[/-][0-9]{1,2}(?: 0?0:00(?::00)?)?$")
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?$")
_PHONE_DIGITS = (10, 11)  # Japanese numbers with the leading 0


@dataclass(frozen=True, slots=True)
class AddressDefaults:
    """What a file leaves out of its addresses: the prefecture and (for a city's own list) the city."""

    prefecture: str | None = None
    municipality: str | None = None


def fill_address(address: str, defaults: AddressDefaults | None) -> tuple[str, bool]:
    """Prefix the prefecture (and city) a file leaves out; says whether anything was added."""
    if not address or defaults is None or not defaults.prefecture:
        return address, False
    pref_code, _ = split_prefecture(address)
    if pref_code is not None:
        return address, False
    city = defaults.municipality
    if city and not address.startswith(city):
        return f"{defaults.prefecture}{city}{address}", True
    return f"{defaults.prefecture}{address}", True


def _opt(value: str) -> str | None:
    return value or None


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in _LIST_SPLIT_RE.split(clean(value).lower()) if v)


def postal_code(value: str) -> str | None:
    """``〒920-0054``, ``９２０－００５４``, ``9200054`` -> ``920-0054``; anything else is None."""
    text = _DASHES_RE.sub("-", clean(value)).replace(" ", "")
    match = _POSTAL_RE.match(text)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def phone(value: str) -> str | None:
    """A Japanese phone number with its dashes unified (``(076)222-1111`` -> ``076-222-1111``).

    The first number of several is kept; a number without its leading 0 (a spreadsheet read it as a
    number) is refused here and repaired, with a flag, by ``phone_repaired``.
    """
    text = _PHONE_PREFIX_RE.sub("", clean(value))
    text = re.split(r"[/／,、;]|\s{2,}|\s(?=[0-9]{2,5}-)", text, maxsplit=1)[0]
    text = _DASHES_RE.sub("-", text).replace(" ", "")
    text = re.sub(r"^\+81-?\(?0?", "0", text)
    text = re.sub(r"^\(?(0[0-9]{1,4})\)-?", r"\1-", text)
    text = text.replace("(", "-").replace(")", "-").strip("-")
    text = re.sub(r"-{2,}", "-", text)
    digits = text.replace("-", "")
    if not digits.isdigit() or not digits.startswith("0") or len(digits) not in _PHONE_DIGITS:
        return None
    return text if _PHONE_SHAPE_RE.match(text) else digits


def phone_repaired(value: str) -> str | None:
    """A number that lost its leading 0 in a spreadsheet (``762229000``), given back its 0."""
    digits = clean(value).replace("-", "")
    if digits.isdigit() and not digits.startswith("0") and len(digits) + 1 in _PHONE_DIGITS:
        return f"0{digits}"
    return None


def url(value: str) -> str | None:
    """An http(s) URL with its scheme and host lower-cased; ``www.example.jp`` gains ``http://``."""
    # Shift_JIS exports turn "~" into an overline (‾): home pages like /‾name/ are tildes.
    text = clean((value or "").replace("\u203e", "~"))
    if not text or " " in text:
        return None
    if text.lower().startswith("www."):
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.netloc.lower()
    try:  # a Japanese domain name (ふるーつ.com) is checked in its ASCII form, kept as written
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if scheme not in {"http", "https"} or not _HOST_RE.match(ascii_host):
        return None
    return urlunsplit((scheme, host, parts.path or "/", parts.query, parts.fragment))


def parse_date(value: str) -> date:
    text = clean(value)
    try:  # the canonical form, without strptime's cost
        return date.fromisoformat(text)
    except ValueError:
        pass
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


def _date_field(f: dict[str, str], name: str) -> date | None:
    """A date column, or None when empty; raises ValueError when it is not a date."""
    if not clean(f.get(name)):
        return None
    return parse_date(f[name])


def normalize(raw: RawRow, defaults: AddressDefaults | None = None) -> NormalizedShop | Rejection:
    f = raw.fields

    def reject(reason: str, field: str | None = None) -> Rejection:
        value = f.get(field) if field else None
        return Rejection(line=raw.line, reason=reason, field=field, value=value, raw=raw.original)

    unreadable = raw.original.get("__error__")  # the reader could not make a record of it (ingest.formats)
    name = "" if unreadable else normalize_name(f.get("name"))
    if not name:
        return reject(unreadable, None) if unreadable else reject("the shop has no name", "name")
    address, filled = fill_address(normalize_address(f.get("address")), defaults)
    lat, lng = clean(f.get("lat")), clean(f.get("lng"))
    has_point = bool(lat or lng)
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
    dates: dict[str, date | None] = {}
    for name_of_date in ("registered_on", "withdrawn_on", "closed_on", "notified_on"):
        try:
            dates[name_of_date] = _date_field(f, name_of_date)
        except ValueError:
            return reject(f"{name_of_date} is not a date (YYYY-MM-DD)", name_of_date)

    flags: list[str] = ["address_context_added"] if filled else []
    pc = postal_code(f.get("postal_code", ""))
    if clean(f.get("postal_code")) and pc is None:
        flags.append("bad_postal_code")
    tel = phone(f.get("phone", ""))
    if clean(f.get("phone")) and tel is None:
        tel = phone_repaired(f.get("phone", ""))
        flags.append("phone_leading_zero_restored" if tel else "bad_phone")
    closed_days = clean(f.get("closed_days"))
    if _SPREADSHEET_DATE_RE.match(closed_days):
        flags.append("closed_days_spreadsheet_date")
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
        closed_days=_opt(closed_days),
        perk_text=_opt(clean(f.get("perk_text"))),
        municipality_code=code,
        declared_categories=categories,
        declared_amenities=_split(f.get("amenities", "")),
        flags=tuple(flags),
        lat=_opt(lat),
        lng=_opt(lng),
        registered_on=dates["registered_on"],
        withdrawn_on=dates["withdrawn_on"],
        closed_on=dates["closed_on"],
        notified_on=dates["notified_on"],
        name_key=search_key(name),
    )
