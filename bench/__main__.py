"""Run every benchmark: ``python -m bench`` (needs the local broker for the pipeline one)."""

from __future__ import annotations

import runpy
import sys

BENCHMARKS = [
    "bench.bench_adapters",
    "bench.bench_pipeline",
    "bench.bench_rules",
    "bench.bench_router",
    "bench.bench_archive",
    "bench.bench_models",
    "bench.bench_middleware",
]

if __name__ == "__main__":
    for module in BENCHMARKS:
        print(f"\n== {module}", flush=True)
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__")
