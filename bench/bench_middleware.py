"""Latency the audit middleware adds to a request: p50 and p99, with and without it, in one run.

Run it with::

    python -m bench.bench_middleware [--requests 2000] [--runs 5] [--transport kafka|memory]

Two copies of the example shop (``examples/fastapi_shop``) are built in the same
process: one plain, one with ``AuditMiddleware``. Requests go straight into the
ASGI app (no sockets, so the figures are the app's own time, not the network's)
in alternating blocks of 100, so both apps see the same machine noise. The mix is
the shop's: 90% ``GET /items/{id}`` by a signed-in user, 10% ``DELETE`` answered
with 403. With ``--transport kafka`` (the default) the audited app's client
delivers to a real broker (``$AUDITWATCH_KAFKA_BOOTSTRAP`` or 127.0.0.1:19092)
from its sender thread, which competes with the app for the interpreter, as in
production; ``memory`` keeps the events in a list.

Each figure is the median over ``--runs`` runs of that run's percentile; ratios are
against the plain app measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import MutableMapping
from typing import Any

from auditwatch_sdk import AuditClient, KafkaTransport, MemoryTransport, Transport
from examples.fastapi_shop.app import create_app

BLOCK = 100


def _scope(n: int) -> dict[str, Any]:
    forbidden = n % 10 == 9
    trace = f"{n:032x}"
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "DELETE" if forbidden else "GET",
        "scheme": "http",
        "path": f"/items/{n % 100}",
        "raw_path": f"/items/{n % 100}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"shop"),
            (b"x-user", b"mallory" if forbidden else b"alice"),
            (b"user-agent", b"bench/1"),
            (b"traceparent", f"00-{trace}-{n + 1:016x}-01".encode()),
        ],
        "client": ("10.1.2.3", 50000),
        "server": ("shop", 80),
    }


async def _request(app: Any, n: int) -> float:
    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    started = time.perf_counter()
    await app(_scope(n), receive, send)
    return time.perf_counter() - started


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


async def _run(plain: Any, audited: Any, requests: int) -> dict[str, tuple[float, float]]:
    """Per app and request kind (``all``, ``get``: the 200s only): (p50, p99) of this run."""
    times: dict[str, list[float]] = {}
    for start in range(0, requests, BLOCK):
        for name, app in (("plain", plain), ("audited", audited)):
            for n in range(start, min(start + BLOCK, requests)):
                elapsed = await _request(app, n)
                times.setdefault(f"{name}/all", []).append(elapsed)
                if n % 10 != 9:
                    times.setdefault(f"{name}/get", []).append(elapsed)
    return {key: (_p(values, 50), _p(values, 99)) for key, values in times.items()}


def _transport(kind: str) -> Transport:
    if kind == "memory":
        return MemoryTransport()
    bootstrap = os.environ.get("AUDITWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    return KafkaTransport(bootstrap, "bench.sdk.raw")


async def main(requests: int, runs: int, transport: str) -> None:
    with tempfile.TemporaryDirectory() as spool:
        client = AuditClient(_transport(transport), service="shop", overflow="spool", spool_dir=spool)
        plain, audited = create_app(), create_app(client)
        await _run(plain, audited, 200)  # warm-up: imports, route caches, the broker connection
        results = [await _run(plain, audited, requests) for _ in range(runs)]
        await client.aclose()
        stats = client.stats

    def median(name: str, index: int) -> float:
        return statistics.median(r[name][index] for r in results)

    print(f"{requests} requests x {runs} runs, transport {transport}; medians of per-run percentiles\n")
    print("| requests | app | p50 (µs) | p99 (µs) | p50 ratio | p99 ratio |")
    print("|---|---|---|---|---|---|")
    for kind, label in (("all", "all (10% 403)"), ("get", "GET 200 only")):
        base50, base99 = median(f"plain/{kind}", 0), median(f"plain/{kind}", 1)
        aud50, aud99 = median(f"audited/{kind}", 0), median(f"audited/{kind}", 1)
        print(
            f"| {label} | without middleware (baseline) | {base50 * 1e6:.0f} | {base99 * 1e6:.0f} "
            "| 1.00 | 1.00 |"
        )
        print(
            f"| {label} | with AuditMiddleware | {aud50 * 1e6:.0f} | {aud99 * 1e6:.0f} "
            f"| {aud50 / base50:.2f} | {aud99 / base99:.2f} |"
        )
        print(
            f"| {label} | added per request | {(aud50 - base50) * 1e6:+.0f} "
            f"| {(aud99 - base99) * 1e6:+.0f} | | |"
        )
    print(f"\nevents emitted {stats.emitted}, delivered {stats.sent}, dropped {stats.dropped}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--transport", choices=["kafka", "memory"], default="kafka")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.runs, args.transport))
