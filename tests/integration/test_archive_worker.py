"""The archive in a real worker, against the real broker: killed mid-stream, restarted, verified."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pipeline.archive.keys import Keyring, Signer
from pipeline.archive.records import Kind, Record
from pipeline.archive.scan import scan_log
from pipeline.archive.storage import LocalStorage
from pipeline.archive.writer import ArchiveWriter, WriterSettings
from tests.integration.conftest import AUDITWATCH, REPO, Topics, Worker, produce, wait_until

START = 1_767_225_600  # 2026-01-01T00:00:00Z
EVENTS = 300


def event(i: int) -> bytes:
    return json.dumps(
        {
            "event_id": f"arch-{i}",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + i)),
            "actor": {"id": f"user-{i % 7}", "type": "human"},
            "action": "login",
            "category": "authentication",
            "outcome": "success",
            "origin": {"system": "acme.sso"},
        }
    ).encode()


def archived(directory: Path) -> list[Record]:
    if not (directory / "segments").is_dir():
        return []
    scan = scan_log(LocalStorage(directory), keep=lambda record: True)
    return [Record.from_bytes(e.data) for e in scan.entries if e.data is not None]


def event_ids(directory: Path) -> Counter[str]:
    return Counter(r.data["event_id"] for r in archived(directory) if r.kind is Kind.EVENT)


def test_a_worker_killed_mid_stream_leaves_a_valid_archive_with_every_event_once(
    make_worker: Callable[..., Worker], topics: Topics, kafka_bootstrap: str, tmp_path: Path
) -> None:
    signer, key, keyring = Signer.generate(), tmp_path / "archive.pem", tmp_path / "keys.json"
    signer.write(key)
    Keyring([signer.public]).save(keyring)
    directory = tmp_path / "archive"
    sections = {
        "archive": {
            "enabled": True,
            "dir": str(directory),
            "checkpoint_every": 40,
            "checkpoint_interval": 2,
            "segment_max_bytes": 32768,
            "batch_max": 25,
            "batch_within": 0.1,
        }
    }
    first = make_worker(sections, AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE=str(key))
    first.start()

    def paced() -> None:  # records keep arriving while the worker is killed
        for chunk in range(0, 200, 20):
            produce(kafka_bootstrap, topics.raw, [event(i) for i in range(chunk, chunk + 20)])
            time.sleep(0.3)

    producer = threading.Thread(target=paced)
    producer.start()
    try:
        wait_until(lambda: sum(event_ids(directory).values()) >= 40, 120, "40 archived events", first)
        first.kill()  # SIGKILL mid-stream: no stop record, no last checkpoint, offsets perhaps not committed
    finally:
        producer.join()
    second = make_worker(sections, AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE=str(key))
    second.start()
    produce(kafka_bootstrap, topics.raw, [event(i) for i in range(200, EVENTS)])
    wait_until(lambda: len(event_ids(directory)) >= EVENTS, 180, f"all {EVENTS} events archived", second)
    second.stop()
    assert not second.alive()

    counts = event_ids(directory)
    assert set(counts) == {f"arch-{i}" for i in range(EVENTS)}
    assert max(counts.values()) == 1, f"archived more than once: {[k for k, n in counts.items() if n > 1]}"
    records = archived(directory)
    assert [r.seq for r in records] == list(range(len(records))), "gap-free sequence"
    starts = [r for r in records if r.kind is Kind.WRITER_START]
    assert len(starts) == 2
    assert starts[1].data["previous_stop"].startswith("unclean"), "the kill is on the record"
    assert records[-1].kind is Kind.WRITER_STOP, "the second worker stopped cleanly"

    result = subprocess.run(
        [AUDITWATCH, "archive", "verify", "--dir", str(directory), "--keys", str(keyring)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{EVENTS} event" in result.stdout
    assert result.stdout.rstrip().endswith("archive valid")


def test_a_worker_will_not_extend_a_tampered_archive(
    make_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    signer, key = Signer.generate(), tmp_path / "archive.pem"
    signer.write(key)
    directory = tmp_path / "archive"
    writer = ArchiveWriter.open(LocalStorage(directory), signer, WriterSettings(origin="auditwatch/test"))
    writer.close()
    segment = next((directory / "segments").glob("seg-*.log"))
    segment.chmod(0o644)
    segment.write_bytes(
        segment.read_bytes().replace(b'"clean"', b'"Clean"').replace(b"new archive", b"old archive")
    )
    worker = make_worker(
        {"archive": {"enabled": True, "dir": str(directory)}}, AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE=str(key)
    )
    worker.start()
    wait_until(lambda: not worker.alive(), 120, "the worker to stop", worker)
    assert worker.process is not None and worker.process.returncode != 0
    stopped = [line for line in worker.log().splitlines() if "stopping the worker" in line]
    assert stopped and "hash mismatch at record 0" in stopped[0], worker.log()[-4000:]
