"""Cross-cutting behaviour: request IDs in logs and responses, Cache-Control on public GETs."""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kosodate.api.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PRIVATE_PREFIXES = ("/v1/handoffs", "/v1/operator")


class RequestContext:
    """Pure ASGI middleware (keeps streaming responses streaming)."""

    def __init__(self, app: ASGIApp, cache_max_age_s: int) -> None:
        self.app = app
        self.cache = f"public, max-age={cache_max_age_s}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        method: str = scope["method"]
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if "cache-control" not in headers:
                    if path.startswith(PRIVATE_PREFIXES) or method not in ("GET", "HEAD") or status >= 400:  # noqa: PLR2004
                        headers["Cache-Control"] = "no-store"
                    else:
                        headers["Cache-Control"] = self.cache
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info(
                "%s %s %s %.1fms request_id=%s",
                method,
                path,
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
            )
