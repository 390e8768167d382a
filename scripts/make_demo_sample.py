"""Write config/samples/demo.jsonl: a small, realistic, deterministic audit stream.

Twenty minutes of logins and API calls by a handful of people and services,
with one password-guessing burst against ``alice`` from an unfamiliar address,
one slow trickle of failures for ``bob`` that must not alert, and a few
malformed records that must end in the dead-letter file.

Run: python scripts/make_demo_sample.py
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "config" / "samples" / "demo.jsonl"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
PEOPLE = {
    "alice": "198.51.100.10",
    "bob": "198.51.100.11",
    "carol": "198.51.100.12",
    "dave": "198.51.100.13",
}
SERVICES = ["svc-billing", "svc-reports"]
ACTIONS = ["s3.GetObject", "s3.ListBucket", "iam.GetUser", "ec2.DescribeInstances"]


def event(
    rng: random.Random,
    when: datetime,
    actor: str,
    action: str,
    outcome: str,
    ip: str,
    category: str,
    actor_type: str = "human",
) -> dict[str, object]:
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "time": when.isoformat().replace("+00:00", "Z"),
        "tenant_id": "acme",
        "actor": {"id": actor, "name": actor.title(), "type": actor_type},
        "action": action,
        "category": category,
        "outcome": outcome,
        "source": {
            "ip": ip,
            "user_agent": "Mozilla/5.0" if actor_type == "human" else "aws-sdk-go/1.44",
        },
        "origin": {
            "system": "acme.sso" if category == "authentication" else "acme.api",
            "service": "login" if category == "authentication" else "gateway",
        },
        "correlation_id": f"req-{rng.randrange(16**8):08x}",
    }


def main() -> None:
    rng = random.Random(20260302)
    records: list[tuple[datetime, str]] = []
    for minute in range(20):
        for person, ip in PEOPLE.items():
            when = START + timedelta(minutes=minute, seconds=rng.randrange(60))
            if minute % 5 == 0:
                records.append(
                    (
                        when,
                        json.dumps(event(rng, when, person, "login", "success", ip, "authentication")),
                    )
                )
            for _ in range(rng.randrange(1, 4)):
                t = when + timedelta(seconds=rng.randrange(30))
                records.append(
                    (
                        t,
                        json.dumps(event(rng, t, person, rng.choice(ACTIONS), "success", ip, "api_activity")),
                    )
                )
        for service in SERVICES:
            for second in range(0, 60, 20):
                t = START + timedelta(minutes=minute, seconds=second)
                records.append(
                    (
                        t,
                        json.dumps(
                            event(
                                rng,
                                t,
                                service,
                                "s3.PutObject",
                                "success",
                                "10.0.0.5",
                                "api_activity",
                                "service",
                            )
                        ),
                    )
                )
    # bob mistypes his password now and then: 4 failures spread over 10 minutes, no alert.
    for minute in (2, 5, 8, 11):
        t = START + timedelta(minutes=minute, seconds=7)
        records.append(
            (
                t,
                json.dumps(event(rng, t, "bob", "login", "failure", PEOPLE["bob"], "authentication")),
            )
        )
    # someone guesses alice's password: 7 failures in 40 seconds from a new address.
    for i in range(7):
        t = START + timedelta(minutes=14, seconds=3 + i * 6)
        records.append(
            (
                t,
                json.dumps(event(rng, t, "alice", "login", "failure", "203.0.113.66", "authentication")),
            )
        )
    records.sort(key=lambda item: item[0])
    lines = [line for _, line in records]
    broken = [
        '{"event_id": "broken-1", "time": "2026-03-02T09:05:00Z", "actor": {"id": "eve"}',
        '{"event_id": "broken-2", "time": "2026-03-02 09:06:00", "actor": {"id": "eve"}, '
        '"action": "login", "origin": {"system": "acme.sso"}}',
        '{"event_id": "broken-3", "action": "login", "actor": {"id": 42}, "origin": {"system": "acme.sso"}}',
    ]
    for offset, line in zip((40, 120, 200), broken, strict=True):
        lines.insert(offset, line)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} records to {OUT}")


if __name__ == "__main__":
    main()
