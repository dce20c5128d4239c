"""Domain errors raised by the storage layer. The API maps them to HTTP statuses in one table."""

from __future__ import annotations


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
