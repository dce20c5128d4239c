"""Domain errors raised by the storage layer. The API maps them to HTTP statuses in one table."""

from __future__ import annotations

import errno


class KosodateError(Exception):
    """Base for errors whose message is safe to show to a client."""

    title = "Error"


class NotFound(KosodateError):
    title = "Not found"


class InvalidQuery(KosodateError):
    title = "Invalid query"


class DatabaseUnavailable(KosodateError):
    title = "Database unavailable"


class QueryTimeout(KosodateError):
    title = "Query took too long"


class EmbeddedClusterError(KosodateError):
    title = "Embedded database problem"


class Unauthorized(KosodateError):
    title = "Unauthorized"


class TooLarge(KosodateError):
    title = "Content too large"


class JobFailed(KosodateError):
    title = "The job failed"


class StorageFailed(KosodateError):
    """The disk is full or read-only: nothing was written (or what was begun was removed)."""

    title = "Insufficient storage"


def storage_failed(what: str, exc: OSError) -> StorageFailed:
    """A client-safe message for a failed write: the cause's name, never its path."""
    cause = {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "the disk is read-only",
        errno.EDQUOT: "the quota is used up",
    }
    return StorageFailed(
        f"{what}: {cause.get(exc.errno or 0, exc.strerror or 'the write failed')}; nothing was kept"
    )
