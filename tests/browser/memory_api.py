"""The API app under a real uvicorn server on 127.0.0.1, with in-memory backends, in its own process.

The browser tests that need no broker run the page against this: the real
``create_api`` app, the real token store (in memory), the real views over
this process's own Prometheus registry (seeded below, so the trends, rules
and health panels have figures), and an alert book the test feeds.

Protocol: the process prints one JSON line, ``{"url", "tokens": {role: secret},
"checkpoint"}`` (the archive's latest checkpoint),
once it is listening; then each JSON line on stdin is an alert
(``Alert.model_dump(mode="json")``) to add to the book. Run it as
``python -m tests.browser.memory_api [--anonymous]`` from the repository root.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from alerts.model import Alert
from detectors.events import Actor, AuditEvent, Origin, Outcome, Resource
from detectors.rules.ruleset import load_ruleset
from pipeline import metrics
from pipeline.access.policy import Policy
from pipeline.access.review import review_events
from pipeline.api.app import create_api
from pipeline.api.archive_view import ArchiveView
from pipeline.api.backend import ApiBackend
from pipeline.api.tokens import TokenStore
from tests.archive.helpers import Archive

REPO = Path(__file__).resolve().parents[2]


def seed_metrics() -> None:
    """Figures for the panels: two partitions (one stalled), sources, rule hits, a DLQ count."""
    metrics.RECORDS_IN.inc(1234)
    metrics.EVENTS_DEAD_LETTERED.inc(7)
    metrics.NOTIFICATIONS_PARKED.set(2)
    for source, n in {"okta": 640, "cloudtrail": 410, "github": 177}.items():
        metrics.EVENTS_BY_SOURCE.labels(source=source).inc(n)
    metrics.RULE_MATCHES.labels(rule="failed_login_burst").inc(42)  # failed_login: no hits
    metrics.ALERTS_RAISED.labels(rule="failed_login_burst", severity="high").inc(3)
    now = datetime.now(UTC).timestamp()
    metrics.CONSUMER_LAG.labels(topic="audit.events", partition="0").set(3)
    metrics.CONSUMER_LAG.labels(topic="audit.events", partition="1").set(950)
    metrics.PARTITION_STALLED.labels(topic="audit.events", partition="1").set(1)
    metrics.LAST_EVENT_TIME.labels(partition="0").set(now - 1)
    metrics.LAST_EVENT_TIME.labels(partition="1").set(now - 400)


def usage_events(now: datetime) -> list[AuditEvent]:
    """A small observed stream for the access review page."""
    origin = Origin(system="cloudtrail")
    events = []
    for i, (actor, action, outcome) in enumerate(
        [
            ("alice", "s3:GetObject", Outcome.SUCCESS),
            ("alice", "s3:GetObject", Outcome.SUCCESS),
            ("alice", "iam:CreateUser", Outcome.FAILURE),
            ("deploy-bot", "ec2:RunInstances", Outcome.SUCCESS),
        ]
    ):
        events.append(
            AuditEvent(
                event_id=f"usage-{i}",
                time=now - timedelta(days=i + 1),
                actor=Actor(id=actor),
                action=action,
                resource=Resource(type=action.split(":")[0]),
                outcome=outcome,
                origin=origin,
            )
        )
    return events


async def serve(archive_dir: str) -> None:
    seed_metrics()
    tokens = TokenStore(None)
    secrets = {role: tokens.create(f"{role}-1", role)[1] for role in ("viewer", "responder", "admin")}
    # One stable shipped file, not the whole directory that other work may be editing.
    ruleset = load_ruleset([REPO / "config" / "rules" / "failed_logins.yml"])
    now = datetime.now(UTC)
    events = usage_events(now)

    policy = Policy.model_validate(
        {
            "roles": {"reader": {"allow": ["s3:GetObject", "s3:PutObject"]}, "ops": {"allow": ["ec2:*"]}},
            "members": {"alice": ["reader"], "deploy-bot": ["ops"], "carol": ["reader"]},
        }
    )

    async def access_review(since: str) -> Any:
        return review_events(events, since, policy=policy).model_dump(mode="json")

    archive = Archive(Path(archive_dir))
    archive.fill(12)  # signed checkpoints for the health panel
    view = ArchiveView(archive.storage)
    backend = ApiBackend(ruleset=lambda: ruleset, access_review=access_review, archive=view)
    emitted: list[AuditEvent] = []

    async def emit(event: AuditEvent) -> None:
        emitted.append(event)

    app = create_api(backend, tokens, emit, anonymous="--anonymous" in sys.argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.05)
    port = sock.getsockname()[1]
    hello = {"url": f"http://127.0.0.1:{port}", "tokens": secrets, "checkpoint": view.latest()}
    print(json.dumps(hello), flush=True)

    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:  # the test closed our stdin: stop
            break
        if line.strip():
            backend.book.add(Alert.model_validate(json.loads(line)))
    server.should_exit = True
    await task


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="aw-archive-") as directory:
        asyncio.run(serve(directory))
