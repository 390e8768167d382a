"""Injected attacks, each labelled on every event it adds: ``extra.label = {attack, id}``.

Every attack type has a slow, low-rate variant (``<type>_slow``) that spreads the
same steps over many hours.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.simulate.generator import DAY, SimEvent, event_dict
from pipeline.simulate.population import Human, Service, random_public_ip

__all__ = ["ATTACK_TYPES", "Attack", "inject"]

ATTACKER_AGENTS = ("python-requests/2.31", "curl/8.5.0", "Go-http-client/1.1")
FOREIGN = ("RU", "KP", "BR", "VN", "NG")


@dataclass(frozen=True)
class Attack:
    id: str
    type: str
    start: float
    actors: tuple[str, ...]


Step = tuple[float, dict[str, object]]


def _spread(rng: random.Random, start: float, count: int, slow: bool, fast_span: float) -> list[float]:
    span = (12 * 3600.0) if slow else fast_span
    return sorted(start + rng.uniform(0, span) for _ in range(count))


def _login_attempts(
    rng: random.Random, people: list[Human], start: float, slow: bool, spray: bool
) -> list[Step]:
    ips = [random_public_ip(rng) for _ in range(1 if spray else 3)]
    agent = rng.choice(ATTACKER_AGENTS)
    country = rng.choice(FOREIGN)
    victims = rng.sample(people, k=min(len(people), 25 if not slow else 12))
    attempts = [(v, n) for v in victims for n in range(1 if spray else rng.randint(2, 4))]
    steps = []
    for when, (victim, _) in zip(_spread(rng, start, len(attempts), slow, 900.0), attempts, strict=True):
        data = event_dict(
            victim.id,
            "human",
            "login",
            "authentication",
            "failure",
            rng.choice(ips),
            agent,
            "acme.sso",
            extra={"geo": {"country": country}},
        )
        steps.append((when, data))
    return steps


def _takeover(rng: random.Random, people: list[Human], start: float, slow: bool) -> list[Step]:
    victim = rng.choice(people)
    ip, agent = (
        random_public_ip(rng),
        rng.choice((*ATTACKER_AGENTS[:2], "Mozilla/5.0 (X11; Linux) Firefox/99")),
    )
    geo = {"geo": {"country": rng.choice(FOREIGN)}}
    at = start - start % DAY + ((victim.utc_start + 17.0) % 24) * 3600.0  # the middle of the victim's night
    steps: list[Step] = [
        (
            at,
            event_dict(
                victim.id, "human", "login", "authentication", "success", ip, agent, "acme.sso", extra=geo
            ),
        )
    ]
    actions = ("iam.ListUsers", "secretsmanager.ListSecrets", "s3.ListBucket", "s3.GetObject")
    for when in _spread(rng, at + 60, 3 if slow else 12, slow, 1200.0):
        steps.append(
            (
                when,
                event_dict(
                    victim.id,
                    "human",
                    rng.choice(actions),
                    "api_activity",
                    "success",
                    ip,
                    agent,
                    "aws.cloudtrail",
                    f"prod-secret-{rng.randint(0, 99)}",
                    geo,
                ),
            )
        )
    return steps


def _escalate_exfiltrate(rng: random.Random, people: list[Human], start: float, slow: bool) -> list[Step]:
    person = rng.choice(people)
    ip, agent = person.office_ip, person.user_agent
    geo = {"geo": {"country": person.country}}
    at = start - start % DAY + (person.utc_start + 2.0) * 3600.0
    steps: list[Step] = [
        (
            at,
            event_dict(
                person.id,
                "human",
                "iam.AttachUserPolicy",
                "account_change",
                "success",
                ip,
                agent,
                "aws.cloudtrail",
                "AdministratorAccess",
                geo,
            ),
        )
    ]
    for when in _spread(rng, at + 120, 8 if slow else 60, slow, 1800.0):
        extra = {**geo, "bytes": int(rng.uniform(5e7, 5e8))}
        steps.append(
            (
                when,
                event_dict(
                    person.id,
                    "human",
                    "s3.GetObject",
                    "api_activity",
                    "success",
                    ip,
                    agent,
                    "aws.cloudtrail",
                    f"finance-archive/{rng.randint(0, 10_000)}",
                    extra,
                ),
            )
        )
    return steps


def _bulk_download(rng: random.Random, people: list[Human], start: float, slow: bool) -> list[Step]:
    person = rng.choice(people)
    geo = {"geo": {"country": person.country}}
    at = start - start % DAY + (person.utc_start + 3.0) * 3600.0
    steps: list[Step] = []
    for when in _spread(rng, at, 10 if slow else 150, slow, 1800.0):
        extra = {**geo, "bytes": int(rng.uniform(2e7, 2e8))}
        steps.append(
            (
                when,
                event_dict(
                    person.id,
                    "human",
                    "s3.GetObject",
                    "api_activity",
                    "success",
                    person.office_ip,
                    person.user_agent,
                    "aws.cloudtrail",
                    f"customer-exports/{rng.randint(0, 10_000)}",
                    extra,
                ),
            )
        )
    return steps


def _service_interactive(rng: random.Random, services: list[Service], start: float, slow: bool) -> list[Step]:
    service = rng.choice(services)
    ip = random_public_ip(rng)
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0"
    steps: list[Step] = [
        (
            start,
            event_dict(
                service.id, "service", "console.login", "authentication", "success", ip, agent, "acme.sso"
            ),
        )
    ]
    actions = (
        "iam.ListUsers",
        "secretsmanager.GetSecretValue",
        "ec2.DescribeInstances",
        "iam.CreateAccessKey",
    )
    for when in _spread(rng, start + 60, 3 if slow else 15, slow, 900.0):
        steps.append(
            (
                when,
                event_dict(
                    service.id,
                    "service",
                    rng.choice(actions),
                    "api_activity",
                    "success",
                    ip,
                    agent,
                    "aws.cloudtrail",
                    f"prod-{rng.randint(0, 30)}",
                ),
            )
        )
    return steps


Maker = Callable[[random.Random, list[Human], list[Service], float, bool], list[Step]]
_MAKERS: dict[str, Maker] = {
    "credential_stuffing": lambda r, p, s, t, slow: _login_attempts(r, p, t, slow, spray=False),
    "password_spraying": lambda r, p, s, t, slow: _login_attempts(r, p, t, slow, spray=True),
    "account_takeover": lambda r, p, s, t, slow: _takeover(r, p, t, slow),
    "privilege_escalation_exfiltration": lambda r, p, s, t, slow: _escalate_exfiltrate(r, p, t, slow),
    "insider_bulk_download": lambda r, p, s, t, slow: _bulk_download(r, p, t, slow),
    "service_account_interactive": lambda r, p, s, t, slow: _service_interactive(r, s, t, slow),
}
ATTACK_TYPES = tuple(name for base in _MAKERS for name in (base, f"{base}_slow"))


def inject(
    rng: random.Random, people: list[Human], services: list[Service], start: float, days: int
) -> tuple[list[SimEvent], list[Attack]]:
    """Every attack type once, at seeded times after the first 40% of the stream."""
    events: list[SimEvent] = []
    attacks: list[Attack] = []
    first = start + days * DAY * 0.4
    span = days * DAY * 0.5
    for number, name in enumerate(ATTACK_TYPES):
        base, slow = name.removesuffix("_slow"), name.endswith("_slow")
        at = first + rng.uniform(0, span)
        steps = _MAKERS[base](rng, people, services, at, slow)
        attack_id = f"atk-{number:02d}"
        label = {"attack": name, "id": attack_id}
        actors = tuple(sorted({str(data["actor"]["id"]) for _, data in steps}))  # type: ignore[index]
        attacks.append(Attack(attack_id, name, min(when for when, _ in steps), actors))
        events.extend(SimEvent(when, data, label) for when, data in steps)
    return events, attacks
