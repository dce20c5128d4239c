"""Per-client rate limiting: a token bucket per client address, in process, bounded in memory.

Each worker process keeps its own buckets (no shared store): with N workers or replicas a client can get up
to N times the configured rate, so divide the setting by N, or limit at the balancer. The number of tracked
clients is capped; the least recently seen client is forgotten first (its next request starts a full bucket).

The client is the connection's peer address. ``X-Forwarded-For`` is read only when that peer is one of the
configured trusted proxies; the client is then the right-most address in the header that is not itself a
trusted proxy (entries further left can be written by anyone). IPv6 clients are grouped by /64, the block a
single subscriber usually holds.

Health and readiness probes are not counted. Everything else is, the token-protected operator and hand-off
endpoints included (their callers make a handful of calls, and a limit slows anyone guessing a token).
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from collections import OrderedDict
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
PROBLEM = b"application/problem+json"
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TokenBuckets:
    """Token buckets keyed by client, at most ``max_clients`` of them (least recently seen evicted first)."""

    def __init__(self, per_minute: int, burst: int, max_clients: int) -> None:
        if per_minute <= 0 or max_clients <= 0:
            raise ValueError(
                "per_minute and max_clients must be positive (0 means: do not install the limiter)"
            )
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(max(burst, 1))
        self.max_clients = max_clients
        # key -> [tokens, last refill time]; a list so the hot path updates it in place
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> float:
        """Spend one token; 0.0 when allowed, otherwise the seconds until a token is available."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._buckets.popitem(last=False)
            self._buckets[key] = [self.burst - 1.0, now]
            return 0.0
        self._buckets.move_to_end(key)
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate


def _networks(proxies: Iterable[str]) -> tuple[frozenset[str], tuple[_Network, ...]]:
    """Trusted proxies as exact addresses (a set lookup) and as wider networks."""
    exact: set[str] = set()
    wide: list[_Network] = []
    for entry in proxies:
        net = ipaddress.ip_network(entry.strip(), strict=False)
        if net.num_addresses == 1:
            exact.add(str(net.network_address))
        else:
            wide.append(net)
    return frozenset(exact), tuple(wide)


class ClientAddress:
    """Who a request comes from, honouring ``X-Forwarded-For`` only from trusted proxies."""

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self.exact, self.wide = _networks(trusted_proxies)
        self.any_trusted = bool(self.exact or self.wide)

    def trusted(self, address: str) -> bool:
        if address in self.exact:
            return True
        if not self.wide:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.wide)

    def of(self, scope: Scope) -> str:
        client = scope.get("client")
        peer: str = client[0] if client else "unknown"
        if self.any_trusted and self.trusted(peer):
            forwarded = [
                value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"
            ]
            hops = [_without_port(h.strip()) for h in ",".join(forwarded).split(",") if h.strip()]
            for hop in reversed(hops):
                if not _is_ip(hop):
                    break  # a garbled entry: keep the last address we could read
                peer = hop
                if not self.trusted(hop):
                    break
        return _key(peer)


def _without_port(hop: str) -> str:
    """Some proxies write ``203.0.113.5:41234`` or ``[2001:db8::1]:41234``."""
    if hop.startswith("["):
        return hop[1:].split("]", 1)[0]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _key(address: str) -> str:
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address) + "/64"
    except ValueError:
        return address


class RateLimit:
    """Pure ASGI middleware: 429 problem+json with ``Retry-After`` when a client's bucket is empty."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        max_clients: int,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst, max_clients)
        self.clients = ClientAddress(trusted_proxies)
        self.policy = f'"per-client";q={per_minute};w=60'.encode()
        self._now = time.monotonic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(self.clients.of(scope), self._now())
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Too Many Requests",
                "status": 429,
                "detail": f"too many requests from this address; try again in {retry} s",
                "instance": scope["path"],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", PROBLEM),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry).encode()),
                    (b"ratelimit-policy", self.policy),
                    (b"ratelimit", f'"per-client";r=0;t={retry}'.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
