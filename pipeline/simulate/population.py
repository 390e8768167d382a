"""The simulated population: humans with working hours, places and roles; services with steady rhythms."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Human", "Service", "build_population", "random_public_ip"]

COUNTRIES = ("DE", "US", "GB", "FR", "IN", "NL")
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605.1",
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Chrome/124.0",
)
ROLES: dict[str, tuple[str, ...]] = {
    "engineer": ("s3.GetObject", "s3.PutObject", "ec2.DescribeInstances", "logs.GetLogEvents", "k8s.get"),
    "analyst": ("s3.GetObject", "athena.StartQueryExecution", "athena.GetQueryResults", "s3.ListBucket"),
    "admin": ("iam.ListUsers", "iam.GetUser", "ec2.DescribeInstances", "s3.ListBucket", "iam.ListRoles"),
    "sales": ("crm.ViewAccount", "crm.UpdateOpportunity", "docs.View", "docs.Edit"),
}
SERVICE_ACTIONS = (
    ("s3.PutObject", "s3.GetObject"),
    ("sqs.SendMessage", "sqs.ReceiveMessage"),
    ("dynamodb.PutItem", "dynamodb.Query"),
    ("logs.PutLogEvents",),
)


def random_public_ip(rng: random.Random) -> str:
    first = rng.choice((23, 31, 45, 62, 77, 81, 91, 104, 141, 151, 176, 185, 188, 193, 212))
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


@dataclass
class Human:
    id: str
    role: str
    country: str
    utc_start: float
    """Hour (UTC) the working day starts."""
    hours: float
    office_ip: str
    home_ip: str
    user_agent: str
    resources: list[str] = field(default_factory=list)
    activity: float = 1.0
    """Sessions per working day, on average."""


@dataclass
class Service:
    id: str
    actions: tuple[str, ...]
    period: float
    """Seconds between calls."""
    ip: str
    user_agent: str
    resources: list[str] = field(default_factory=list)


def build_population(rng: random.Random, humans: int, services: int) -> tuple[list[Human], list[Service]]:
    offices = {country: random_public_ip(rng) for country in COUNTRIES}
    people = []
    for i in range(humans):
        role = rng.choice(tuple(ROLES))
        country = rng.choice(COUNTRIES)
        zone = {"DE": 1, "US": -5, "GB": 0, "FR": 1, "IN": 5.5, "NL": 1}[country]
        people.append(
            Human(
                id=f"user{i:03d}",
                role=role,
                country=country,
                utc_start=(rng.uniform(7.5, 10.0) - zone) % 24,
                hours=rng.uniform(7.0, 9.5),
                office_ip=offices[country],
                home_ip=random_public_ip(rng),
                user_agent=rng.choice(BROWSERS),
                resources=[f"{role}-res-{rng.randint(0, 60)}" for _ in range(rng.randint(5, 12))],
                activity=rng.uniform(1.0, 3.0),
            )
        )
    machines = []
    for i in range(services):
        actions = rng.choice(SERVICE_ACTIONS)
        machines.append(
            Service(
                id=f"svc-{i:02d}",
                actions=actions,
                period=rng.choice((60.0, 120.0, 300.0, 600.0)),
                ip=f"10.0.{rng.randint(0, 20)}.{rng.randint(2, 250)}",
                user_agent=rng.choice(("aws-sdk-go/1.44", "aws-sdk-java/2.25", "boto3/1.34")),
                resources=[f"svc-bucket-{i}-{j}" for j in range(rng.randint(1, 3))],
            )
        )
    return people, machines
