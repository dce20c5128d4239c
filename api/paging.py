"""Page sizes for the feeds (changes, hand-offs, rejections): one rule, one message."""

from __future__ import annotations

from api.settings import AppSettings
from search.errors import InvalidQuery


def feed_page_size(limit: int | None, settings: AppSettings, default: int) -> int:
    """The asked-for page size, or ``default``; refused above the configured maximum."""
    max_limit = settings.api.max_changes_limit
    if limit is not None and limit > max_limit:
        raise InvalidQuery(f"limit must be at most {max_limit}")
    return limit or min(default, max_limit)
