"""Fetch the public town tables (Geolonia's japanese-addresses API layout) for chosen prefectures.

Layout below ``base_url``: ``{base}.json`` maps each prefecture name to its municipality names, and
``{base}/{prefecture}/{municipality}.json`` lists ``{"town", "koaza", "lat", "lng"}``. The result is
written as one CSV in the ``towns_geolonia.csv`` format, which ``kosodate gazetteer load`` reads.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

from geo.prefectures import PREFECTURES


class DownloadError(RuntimeError):
    """A public file could not be fetched or was not what we expected."""


def _get_json(url: str, user_agent: str, timeout: float, retries: int = 2) -> Any:
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"refusing to fetch {url!r}: only http(s) URLs")
    request = Request(url, headers={"User-Agent": user_agent, "Accept": "application/json"})  # noqa: S310
    for attempt in range(retries + 1):
        try:
            with urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
                return json.loads(response.read().decode("utf-8"))
        except HTTPError as exc:
            if exc.code in (429, 502, 503, 504) and attempt < retries:
                time.sleep(1.0 * 2**attempt)
                continue
            raise DownloadError(f"{url}: HTTP {exc.code}") from exc
        except (URLError, TimeoutError) as exc:
            if attempt < retries:
                time.sleep(1.0 * 2**attempt)
                continue
            raise DownloadError(f"{url}: {exc}") from exc
        except ValueError as exc:
            raise DownloadError(f"{url}: not JSON ({exc})") from exc
    raise DownloadError(f"{url}: gave up")


def download_towns(
    base_url: str,
    prefectures: Iterable[int],
    out: Path,
    *,
    user_agent: str,
    timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Write the towns of ``prefectures`` to ``out`` (CSV); return the number of rows."""
    base = base_url.rstrip("/")
    index = _get_json(f"{base}.json", user_agent, timeout)
    if not isinstance(index, dict):
        raise DownloadError(f"{base}.json: expected an object of prefecture -> municipalities")
    rows = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["prefecture", "city", "town", "koaza", "lat", "lng"])
        for code in prefectures:
            pref = PREFECTURES.get(code)
            if pref is None:
                raise DownloadError(f"no prefecture with code {code}")
            cities = index.get(pref)
            if not isinstance(cities, list):
                raise DownloadError(f"{base}.json has no municipalities for {pref}")
            for city in cities:
                url = f"{base}/{quote(pref)}/{quote(str(city))}.json"
                towns = _get_json(url, user_agent, timeout)
                if not isinstance(towns, list):
                    raise DownloadError(f"{url}: expected a list of towns")
                for t in towns:
                    if t.get("lat") is None or t.get("lng") is None:
                        continue
                    writer.writerow([pref, city, t.get("town", ""), t.get("koaza", ""), t["lat"], t["lng"]])
                    rows += 1
                if progress:
                    progress(f"{pref}{city}: {len(towns)} towns")
    return rows
