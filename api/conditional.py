"""Conditional GET: does the client's cached copy still hold?"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from starlette.requests import Request


def etag_matches(request: Request, tag: str) -> bool:
    """``If-None-Match`` names ``tag`` (weak or strong) or ``*``."""
    inm = request.headers.get("if-none-match")
    return inm is not None and any(t.strip().removeprefix("W/") in (tag, "*") for t in inm.split(","))


def not_modified(request: Request, tag: str, last_modified: datetime | None = None) -> bool:
    """``If-None-Match`` decides when sent; otherwise ``If-Modified-Since`` against ``last_modified``."""
    if "if-none-match" in request.headers:
        return etag_matches(request, tag)
    ims = request.headers.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since
    return False
