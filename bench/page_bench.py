"""How light is the family page? Transferred bytes and time to first result, beside a bare API call.

Runs against a server that is already up with the sample data (``kosodate demo``), in Debian's chromium:

    .venv/bin/python bench/page_bench.py --base http://127.0.0.1:8080 --runs 7

For each run: a fresh browser context (empty cache) loads ``/``; we time navigation start → the first
result in the list (stamped inside the page by a MutationObserver) and sum the bytes on the wire
(headers + encoded bodies). A second load in the same context shows the warm case (vendored files
cached). The reference, in the same run, is the bare ``/v1/shops`` request the page makes, timed from
Python (httpx, keep-alive) and from inside the page (fetch). Medians are reported; the JSON goes to
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser.chromium import ARGS, CHROMIUM

QUERY = {"lat": "35.338700", "lng": "139.487100", "radius_m": "3000", "limit": "50"}
FIRST_RESULT = "() => window.__firstResult !== undefined"
# Installed before the page's own scripts: stamps the moment the first result enters the DOM.
STAMP = """
new MutationObserver((_, obs) => {
  if (window.__firstResult === undefined && document.querySelector('.k-list > li.k-item')) {
    window.__firstResult = performance.now();
    obs.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def load_once(page: Page, url: str) -> dict[str, Any]:
    sizes: list[int] = []
    kinds: dict[str, int] = {}

    def finished(request: Any) -> None:
        s = request.sizes()
        n = int(s["responseHeadersSize"]) + int(s["responseBodySize"])
        sizes.append(n)
        kind = request.resource_type
        kinds[kind] = kinds.get(kind, 0) + n

    page.on("requestfinished", finished)
    page.goto(url, wait_until="commit")
    page.wait_for_function(FIRST_RESULT, polling="raf", timeout=30_000)
    first_ms = float(page.evaluate("window.__firstResult"))
    page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", finished)
    return {"first_result_ms": first_ms, "bytes": sum(sizes), "requests": len(sizes), "by_kind": kinds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/results/page_bench.json"))
    args = parser.parse_args()
    base = args.base.rstrip("/")

    api_ms: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        client.get("/v1/shops", params=QUERY).raise_for_status()  # warm the pool
        for _ in range(args.runs * 3):
            t0 = time.perf_counter()
            r = client.get("/v1/shops", params=QUERY)
            api_ms.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
        api_bytes = len(r.content)

    cold: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    fetch_ms: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for _ in range(args.runs):
                ctx = browser.new_context(viewport={"width": 412, "height": 900})
                ctx.add_init_script(STAMP)
                page = ctx.new_page()
                cold.append(load_once(page, base + "/"))
                warm.append(load_once(page, base + "/"))
                fetch_ms.append(
                    float(
                        page.evaluate(
                            """async (q) => { const t0 = performance.now();
                               const r = await fetch('/v1/shops?' + new URLSearchParams(q)); await r.json();
                               return performance.now() - t0; }""",
                            QUERY,
                        )
                    )
                )
                ctx.close()
        finally:
            browser.close()

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(r[key] for r in rows))

    result = {
        "command": f"python bench/page_bench.py --base {base} --runs {args.runs}",
        "machine": platform.platform(),
        "runs": args.runs,
        "page_cold": {
            "first_result_ms_median": round(med(cold, "first_result_ms"), 1),
            "transferred_bytes_median": int(med(cold, "bytes")),
            "requests_median": int(med(cold, "requests")),
            "by_kind_first_run": cold[0]["by_kind"],
        },
        "page_warm": {
            "first_result_ms_median": round(med(warm, "first_result_ms"), 1),
            "transferred_bytes_median": int(med(warm, "bytes")),
        },
        "reference": {
            "api_json_httpx_ms_median": round(statistics.median(api_ms), 2),
            "api_json_in_page_fetch_ms_median": round(statistics.median(fetch_ms), 2),
            "api_json_bytes": api_bytes,
        },
    }
    result["ratios"] = {
        "cold_first_result_over_api_fetch": round(
            result["page_cold"]["first_result_ms_median"]
            / result["reference"]["api_json_in_page_fetch_ms_median"],
            1,
        ),
        "warm_first_result_over_api_fetch": round(
            result["page_warm"]["first_result_ms_median"]
            / result["reference"]["api_json_in_page_fetch_ms_median"],
            1,
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
