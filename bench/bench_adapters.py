"""Adapter throughput: events/s of each input format against plain ``json.loads``.

Run it with::

    python -m bench.bench_adapters [--records 10000] [--runs 5]

For each format, the sample records in ``tests/formats/data`` are repeated up to
``--records`` payloads (each copy made unique where the adapter deduplicates:
Kubernetes audit IDs, syslog host names, so the measured path is the normal one,
not the duplicate shortcut). Each payload then goes through ``accept_record``
with the default registry: the UTF-8 check, JSON decoding, format detection, the
mapping and the validation of the canonical event, as on the raw topic.

The baseline is ``json.loads`` of the same payloads (for syslog, which is text,
of each line as a JSON string). Every figure is the median of ``--runs`` runs,
and the ratio is the adapter's events/s over the baseline's records/s. The
defaults take about half a minute; rates hardly change with ``--records``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.formats import FormatContext, default_registry
from pipeline.formats.files import iter_file_records
from pipeline.ingest import Accepted, accept_record

DATA = Path(__file__).resolve().parents[1] / "tests" / "formats" / "data"
SAMPLES = {
    "cloudtrail": [
        "samples/cloudtrail_consolelogin_failure.json",
        "samples/cloudtrail_updatetrail_error.json",
    ],
    "k8s_audit": [
        "samples/k8s_audit_allowed.elastic-integrations.jsonl",
        "samples/k8s_audit_forbidden.audit2rbac-demo.jsonl",
    ],
    "okta": ["samples/okta_system_log_user_session_start.json"],
    "github_audit": [
        "samples/github_audit_log_rest_example.json",
        "samples/github_audit_log_org_stream.elastic-integrations.jsonl",
    ],
    "syslog_auth": [
        "samples/sshd_auth.elastic-integrations-test-auth.log",
        "samples/sshd_auth.loghub-OpenSSH_2k.log",
    ],
    "ocsf": ["written/ocsf_authentication_console_login_failure.json"],
    "ecs": ["written/ecs_system_auth_ssh_failed.json", "written/ecs_logging_dotted.jsonl"],
}
NATIVE = {
    "schema_version": "1.0",
    "event_id": "bench-native",
    "time": "2024-05-01T12:00:00Z",
    "actor": {"id": "alice", "type": "human"},
    "action": "login",
    "category": "authentication",
    "outcome": "failure",
    "source": {"ip": "198.51.100.10", "user_agent": "Mozilla/5.0"},
    "origin": {"system": "acme.sso", "service": "login"},
}
_SYSLOG_HOST = re.compile(rb"^(\S+ +\d+ \S+) (\S+) ")


@dataclass(frozen=True)
class Result:
    name: str
    records: int
    events: int
    events_per_s: float
    baseline_per_s: float


def _fixture(name: str) -> list[bytes]:
    if name == "auditwatch":
        return [json.dumps(NATIVE).encode()]
    return [record.raw for path in SAMPLES[name] for record in iter_file_records(DATA / path)]


def _unique(name: str, raw: bytes, copy: int) -> bytes:
    """A copy the adapter will not drop as a duplicate of an earlier one."""
    if name == "k8s_audit":
        record = json.loads(raw)
        record["auditID"] = f"{record['auditID']}-{copy}"
        return json.dumps(record).encode()
    if name == "syslog_auth":
        return _SYSLOG_HOST.sub(rb"\1 host%d " % copy, raw, count=1)
    if name == "auditwatch":
        return raw.replace(b'"bench-native"', b'"bench-native-%d"' % copy)
    return raw


def payloads(name: str, count: int) -> list[bytes]:
    fixture = _fixture(name)
    return [_unique(name, fixture[i % len(fixture)], i // len(fixture)) for i in range(count)]


def _baseline_inputs(name: str, items: list[bytes]) -> list[bytes]:
    if name == "syslog_auth":
        return [json.dumps(item.decode()).encode() for item in items]
    return items


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    produced = run()
    return time.perf_counter() - start, produced


def measure(name: str, count: int, runs: int) -> Result:
    items = payloads(name, count)
    baseline_items = _baseline_inputs(name, items)
    ctx = FormatContext(default_year=2024)

    def adapters() -> int:
        registry = default_registry()
        events = 0
        for item in items:
            result = accept_record(item, registry, ctx)
            if not isinstance(result, Accepted):
                raise SystemExit(f"{name}: a benchmark record was rejected: {result.reason}")
            events += len(result.events)
        return events

    def baseline() -> int:
        loads = json.loads
        for item in baseline_items:
            loads(item)
        return len(baseline_items)

    adapter_rates, baseline_rates, events = [], [], 0
    for _ in range(runs):
        seconds, events = _timed(adapters)
        adapter_rates.append(events / seconds)
        seconds, done = _timed(baseline)
        baseline_rates.append(done / seconds)
    return Result(
        name, count, events, statistics.median(adapter_rates), statistics.median(baseline_rates)
    )


def table(results: list[Result]) -> str:
    header = (
        f"{'format':<14}{'records':>9}{'events':>9}{'events/s':>12}{'json.loads/s':>15}{'ratio':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<14}{r.records:>9}{r.events:>9}{r.events_per_s:>12,.0f}"
            f"{r.baseline_per_s:>15,.0f}{r.events_per_s / r.baseline_per_s:>8.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000, help="payloads per format")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    names = [*SAMPLES, "auditwatch"]
    results = [measure(name, args.records, args.runs) for name in names]
    print(f"median of {args.runs} runs, {args.records} records per format\n")
    print(table(results))


if __name__ == "__main__":
    main()
