"""What the rate limiter costs a request, side by side with the same app without it (one invocation).

    python -m bench.ratelimit_bench

Three figures, medians of several rounds:
- one ``take`` + client lookup (the limiter's whole work for an allowed request), in microseconds,
  for a client already tracked and with the table full (100 000 clients, every request evicting one);
- a whole ASGI request through a minimal app, with and without the limiter middleware, in microseconds
  (the difference is what the limiter adds to a request's CPU time in this process);
- the memory of 100 000 tracked clients (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from api.ratelimit import ClientAddress, RateLimit, TokenBuckets

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"


async def tiny_app(scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG001
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


def scope_for(address: str, path: str = "/v1/shops") -> dict[str, Any]:
    return {"type": "http", "path": path, "client": (address, 50000), "headers": [(b"host", b"x")]}


def time_take(n: int, *, full: bool) -> float:
    buckets = TokenBuckets(per_minute=1200, burst=300, max_clients=100_000)
    clients = ClientAddress([])
    scopes = [scope_for(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(n)]
    if not full:
        scopes = [scope_for("198.51.100.7")] * n
    now = time.monotonic
    started = time.perf_counter()
    for s in scopes:
        buckets.take(clients.of(s), now())
    return (time.perf_counter() - started) / n * 1e6


async def time_requests(app: Any, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:  # noqa: ARG001
        return None

    scope = scope_for("198.51.100.7")
    started = time.perf_counter()
    for _ in range(n):
        await app(scope, receive, send)
    return (time.perf_counter() - started) / n * 1e6


def memory_of_full_table() -> float:
    tracemalloc.start()
    buckets = TokenBuckets(per_minute=1200, burst=300, max_clients=100_000)
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100_000):
        buckets.take(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", 0.0)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return round(used / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    limited = RateLimit(tiny_app, per_minute=10**9, burst=10**9, max_clients=100_000)
    hot, churn, plain, with_limit = [], [], [], []
    for _ in range(args.rounds):
        hot.append(time_take(args.n, full=False))
        churn.append(time_take(args.n, full=True))
        plain.append(asyncio.run(time_requests(tiny_app, args.n)))
        with_limit.append(asyncio.run(time_requests(limited, args.n)))
    med = {
        k: round(statistics.median(v), 2)
        for k, v in {
            "take_same_client_us": hot,
            "take_new_client_evicting_us": churn,
            "asgi_request_without_us": plain,
            "asgi_request_with_us": with_limit,
        }.items()
    }
    results = {
        "command": " ".join(["python -m bench.ratelimit_bench", *sys.argv[1:]]),
        "python": sys.version.split()[0],
        "n_per_round": args.n,
        "rounds": args.rounds,
        **med,
        "added_per_request_us": round(med["asgi_request_with_us"] - med["asgi_request_without_us"], 2),
        "memory_100k_clients_mb": memory_of_full_table(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ratelimit_bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
