"""Normal activity: working-day sessions for humans, steady call rhythms for services."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.simulate.population import ROLES, Human, Service

__all__ = ["SimEvent", "event_dict", "human_days", "service_days"]

DAY = 86_400.0


@dataclass
class SimEvent:
    """One simulated event: canonical fields (without the id, assigned after sorting) and its label."""

    time: float
    data: dict[str, Any]
    label: dict[str, str] | None = None
    order: int = field(default=0)


def event_dict(
    actor: str,
    actor_type: str,
    action: str,
    category: str,
    outcome: str,
    ip: str,
    user_agent: str,
    origin: str,
    resource: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant_id": "acme",
        "actor": {"id": actor, "type": actor_type},
        "action": action,
        "category": category,
        "outcome": outcome,
        "source": {"ip": ip, "user_agent": user_agent},
        "origin": {"system": origin},
    }
    if resource is not None:
        data["resource"] = {"type": "object", "name": resource}
    if extra:
        data["extra"] = extra
    return data


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")


def human_days(rng: random.Random, person: Human, start: float, days: int) -> list[SimEvent]:
    events: list[SimEvent] = []
    for day in range(days):
        weekday = int(((start + day * DAY) // DAY + 3) % 7)
        if weekday >= 5 and rng.random() > 0.1:
            continue  # most people do not work at weekends
        sessions = max(1, round(rng.gauss(person.activity, 0.5)))
        for _ in range(sessions):
            at = start + day * DAY + (person.utc_start + rng.uniform(0, person.hours)) * 3600.0
            from_home = rng.random() < 0.2
            ip = person.home_ip if from_home else person.office_ip
            geo = {"geo": {"country": person.country}}
            if rng.random() < 0.04:  # a mistyped password now and then
                events.append(
                    SimEvent(
                        at,
                        event_dict(
                            person.id,
                            "human",
                            "login",
                            "authentication",
                            "failure",
                            ip,
                            person.user_agent,
                            "acme.sso",
                            extra=geo,
                        ),
                    )
                )
                at += rng.uniform(5, 30)
            events.append(
                SimEvent(
                    at,
                    event_dict(
                        person.id,
                        "human",
                        "login",
                        "authentication",
                        "success",
                        ip,
                        person.user_agent,
                        "acme.sso",
                        extra=geo,
                    ),
                )
            )
            for _ in range(rng.randint(3, 15)):
                at += rng.expovariate(1 / 120.0)
                action = rng.choice(ROLES[person.role])
                resource = rng.choice(person.resources)
                extra: dict[str, Any] = dict(geo)
                if action == "s3.GetObject":
                    extra["bytes"] = int(math.exp(rng.gauss(11, 1.0)))
                outcome = "failure" if rng.random() < 0.01 else "success"
                events.append(
                    SimEvent(
                        at,
                        event_dict(
                            person.id,
                            "human",
                            action,
                            "api_activity",
                            outcome,
                            ip,
                            person.user_agent,
                            "aws.cloudtrail",
                            resource,
                            extra,
                        ),
                    )
                )
    return events


def service_days(rng: random.Random, service: Service, start: float, days: int) -> list[SimEvent]:
    events: list[SimEvent] = []
    at = start + rng.uniform(0, service.period)
    end = start + days * DAY
    while at < end:
        action = service.actions[int(at // service.period) % len(service.actions)]
        extra = {"bytes": int(rng.gauss(20_000, 2_000))} if action.startswith("s3.") else None
        events.append(
            SimEvent(
                at,
                event_dict(
                    service.id,
                    "service",
                    action,
                    "api_activity",
                    "success",
                    service.ip,
                    service.user_agent,
                    "aws.cloudtrail",
                    rng.choice(service.resources),
                    extra,
                ),
            )
        )
        at += service.period * rng.uniform(0.9, 1.1)
    return events
