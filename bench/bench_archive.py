"""Archive throughput: appends and verification against writing and reading the same bytes plainly.

Run it with::

    python -m bench.bench_archive [--events 10000] [--runs 5] [--batch 500] [--dir DIR]

Each run makes a fresh archive in a temporary directory (``--dir`` to put it on
the disk you care about) and measures:

- **append**: ``ArchiveWriter.append_event`` for every event (canonical
  serialisation, leaf hash, tree update, idempotency check), with ``commit()``
  (an ``fsync``) every ``--batch`` events, as the archive agent does per Kafka
  batch, and a signed checkpoint every 1000 records;
- **baseline write**: the same bytes the archive stored (every segment line),
  written to one buffered file with a flush and an ``fsync`` every ``--batch``
  lines: no serialisation, no hashing, no signing;
- **verify**: ``verify_archive`` over that archive (every leaf recomputed,
  every record parsed and checked for canonical form, every checkpoint root
  and signature);
- **baseline read**: reading the same bytes back line by line.

Every figure is the median of ``--runs`` runs; the ratio is to the baseline
measured in the same runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from detectors.events import AuditEvent
from pipeline.archive.keys import Keyring, Signer
from pipeline.archive.segments import segment_names
from pipeline.archive.storage import LocalStorage
from pipeline.archive.verify import verify_archive
from pipeline.archive.writer import ArchiveWriter, WriterSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def events(count: int) -> list[AuditEvent]:
    """Events shaped like the demo's: an API call or a login, with the source record in ``raw``."""
    made = []
    for i in range(count):
        raw = {
            "eventID": f"bench-{i}",
            "eventTime": (T0 + timedelta(seconds=i)).isoformat(),
            "userIdentity": {"type": "IAMUser", "userName": f"user-{i % 50}"},
            "eventName": "ConsoleLogin" if i % 3 else "PutObject",
            "sourceIPAddress": f"198.51.100.{i % 250}",
            "userAgent": "aws-sdk-go/1.44",
            "requestParameters": {"bucketName": "billing", "key": f"invoices/{i}.pdf"},
        }
        made.append(
            AuditEvent.model_validate(
                {
                    "event_id": f"bench-{i}",
                    "time": T0 + timedelta(seconds=i),
                    "tenant_id": "acme",
                    "actor": {"id": f"user-{i % 50}", "type": "human"},
                    "action": raw["eventName"],
                    "category": "api_activity",
                    "outcome": "success" if i % 7 else "failure",
                    "source": {"ip": raw["sourceIPAddress"], "user_agent": raw["userAgent"]},
                    "origin": {"system": "aws.cloudtrail"},
                    "raw": raw,
                }
            )
        )
    return made


@dataclass
class Run:
    append: float
    baseline_write: float
    verify: float
    baseline_read: float
    bytes_per_event: float


def one_run(items: list[AuditEvent], batch: int, parent: Path | None) -> Run:
    with tempfile.TemporaryDirectory(dir=parent) as temp:
        root = Path(temp)
        storage = LocalStorage(root / "archive")
        signer = Signer.generate()
        settings = WriterSettings(origin="auditwatch/bench", checkpoint_every=1000)
        writer = ArchiveWriter.open(storage, signer, settings)
        start = time.perf_counter()
        for i, event in enumerate(items, start=1):
            writer.append_event(event)
            if i % batch == 0:
                writer.commit()
        writer.commit()
        append = len(items) / (time.perf_counter() - start)
        writer.close()

        lines = [
            line for name in segment_names(storage) for line in storage.read(name).splitlines(keepends=True)
        ]
        plain = root / "plain.log"
        start = time.perf_counter()
        with plain.open("ab") as handle:
            for i, line in enumerate(lines, start=1):
                handle.write(line)
                if i % batch == 0:
                    handle.flush()
                    os.fsync(handle.fileno())
            handle.flush()
            os.fsync(handle.fileno())
        baseline_write = len(lines) / (time.perf_counter() - start)

        start = time.perf_counter()
        report = verify_archive(storage, Keyring([signer.public]))
        verify = report.records / (time.perf_counter() - start)
        if not report.ok:
            raise SystemExit("the benchmark archive does not verify:\n" + "\n".join(report.lines()))

        start = time.perf_counter()
        with plain.open("rb") as handle:
            read = sum(1 for _ in handle)
        baseline_read = read / (time.perf_counter() - start)
        return Run(append, baseline_write, verify, baseline_read, plain.stat().st_size / len(lines))


def table(runs: list[Run], count: int, batch: int) -> str:
    def median(field: str) -> float:
        return statistics.median(getattr(run, field) for run in runs)

    rows = [
        (
            "baseline: write the same bytes, fsync per batch",
            median("baseline_write"),
            median("baseline_write"),
        ),
        ("archive append (serialise, hash, sign, fsync)", median("append"), median("baseline_write")),
        ("baseline: read the same bytes", median("baseline_read"), median("baseline_read")),
        ("archive verify (recompute everything)", median("verify"), median("baseline_read")),
    ]
    header = f"{'benchmark':<52}{'records/s':>12}{'ratio':>9}"
    lines = [
        f"median of {len(runs)} runs, {count} events, fsync every {batch}, "
        f"{median('bytes_per_event'):.0f} bytes a record",
        "",
        header,
        "-" * len(header),
    ]
    lines += [f"{name:<52}{rate:>12,.0f}{rate / base:>9.3f}" for name, rate, base in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000, help="events per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--batch", type=int, default=500, help="events per fsync")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary archives go")
    args = parser.parse_args()
    items = events(args.events)
    runs = [one_run(items, args.batch, args.dir) for _ in range(args.runs)]
    print(table(runs, args.events, args.batch))


if __name__ == "__main__":
    main()
