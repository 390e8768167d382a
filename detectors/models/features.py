"""Features: a canonical event plus its entity's bounded state in, a dict of numbers out.

``observe`` computes the features of an event from what the entity did *before*
it, then folds the event into the entity's state (prequential order). Every
feature is in [0, 1] with 0 the usual, so models see one scale and explanations
can say how far from the entity's normal an event was.

| feature | meaning |
|---|---|
| ``hour_sin``, ``hour_cos``, ``dow_sin``, ``dow_cos`` | time of day and week, cyclically encoded, in [0, 1] |
| ``odd_hour`` | 1 - the entity's share of activity at this hour (and either side) |
| ``new_ip``, ``new_network``, ``new_country``, | 1 if not seen for this entity within ``ttl`` |
| ``new_user_agent``, ``new_resource``, ``new_action`` | |
| ``novelty`` | the share of those six that are new |
| ``action_rarity`` | how rare the action is across the whole population |
| ``failure_short``, ``failure_long`` | the entity's failure ratio over ~5 minutes and ~1 day |
| ``rate_ratio`` | the entity's ~5-minute event rate against its ~1-day rate |
| ``new_resources_hour`` | distinct new resources touched in the last ~hour |
| ``volume`` | bytes or object counts against the entity's usual (0 if the source has none) |

Memory per entity: 6 TTL sets of at most ``EntityLimits.cap`` keys (~40 bytes of
JSON each), 24 floats of hour profile and a dozen counters: about 2.5 KB of JSON
at the default cap of 16, whatever the traffic.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any

from detectors.events import AuditEvent, Outcome
from detectors.models.sketch import as_float, decay, hour_profile_update, hour_share, key_of, squash, ttl_seen

__all__ = ["FEATURES", "STATE_VERSION", "EntityLimits", "Observation", "Population", "new_entity", "observe"]

STATE_VERSION = 1

FEATURES = (
    "hour_sin",
    "hour_cos",
    "dow_sin",
    "dow_cos",
    "odd_hour",
    "new_ip",
    "new_network",
    "new_country",
    "new_user_agent",
    "new_resource",
    "new_action",
    "novelty",
    "action_rarity",
    "failure_short",
    "failure_long",
    "rate_ratio",
    "new_resources_hour",
    "volume",
)

_SHORT = 300.0
_LONG = 86_400.0
_HOUR = 3_600.0
_NOVELTY = ("ip", "network", "country", "user_agent", "resource", "action")


@dataclass(frozen=True)
class EntityLimits:
    """Caps that bound one entity's memory."""

    cap: int = 16
    """Keys kept per TTL set."""
    ttl: float = 30 * 86_400.0
    """Seconds after which a value counts as new again."""


@dataclass
class Population:
    """What is learned across entities: how common each action is. Bounded by ``cap`` actions."""

    cap: int = 4096
    actions: dict[str, float] = field(default_factory=dict)
    total: float = 0.0

    def rarity(self, action: str) -> float:
        seen = self.actions.get(key_of(action), 0.0)
        if self.total < 1.0:
            return 0.0
        return 1.0 - math.log1p(seen) / math.log1p(self.total)

    def learn(self, action: str) -> None:
        key = key_of(action)
        self.actions[key] = self.actions.get(key, 0.0) + 1.0
        self.total += 1.0
        if len(self.actions) > self.cap:
            rarest = min(self.actions, key=self.actions.__getitem__)
            self.total -= self.actions.pop(rarest)

    def to_json(self) -> dict[str, Any]:
        return {"cap": self.cap, "actions": self.actions, "total": self.total}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Population:
        return cls(cap=int(data["cap"]), actions=dict(data["actions"]), total=float(data["total"]))


@dataclass(frozen=True)
class Observation:
    """An event's features, and the facts an explanation quotes."""

    features: dict[str, float]
    facts: dict[str, str]
    seen_before: int
    """How many events of this entity came before this one (the warm-up counter)."""


def new_entity() -> dict[str, Any]:
    """The state of an entity never seen before (plain JSON)."""
    return {
        "v": STATE_VERSION,
        "n": 0,
        "t": 0.0,
        "hours": [0.0] * 24,
        "seen": {name: {} for name in _NOVELTY},
        "rs": 0.0,
        "rl": 0.0,
        "fs": 0.0,
        "fl": 0.0,
        "nr": 0.0,
        "vm": 0.0,
        "vn": 0.0,
    }


def _network(ip: str | None) -> str | None:
    if ip is None:
        return None
    try:
        return str(ipaddress.ip_network(f"{ip}/{24 if ':' not in ip else 48}", strict=False))
    except ValueError:
        return None


def _volume(event: AuditEvent) -> float | None:
    for name in ("bytes", "bytes_out", "object_count", "objects"):
        if name in event.extra:
            value = as_float(event.extra[name], -1.0)
            if value >= 0.0:
                return value
    return None


def _country(event: AuditEvent) -> str | None:
    geo = event.extra.get("geo")
    if isinstance(geo, dict) and geo.get("country"):
        return str(geo["country"])
    country = event.extra.get("country")
    return str(country) if country else None


def observe(
    event: AuditEvent, entity: dict[str, Any], population: Population, limits: EntityLimits = EntityLimits()
) -> Observation:
    """Features of ``event`` from ``entity``'s past; then learn it into ``entity`` and ``population``."""
    now = event.epoch
    tod = (now % 86_400.0) / 86_400.0
    dow = ((now // 86_400.0 + 3) % 7) / 7.0  # 1970-01-01 was a Thursday; 0 = Monday
    hour = tod * 24.0
    n = int(entity["n"])
    last = float(entity["t"])
    facts: dict[str, str] = {}

    ip = str(event.source.ip) if event.source.ip is not None else None
    values = {
        "ip": ip,
        "network": _network(ip),
        "country": _country(event),
        "user_agent": event.source.user_agent,
        "resource": (event.resource.name or event.resource.id) if event.resource is not None else None,
        "action": event.action,
    }
    novelty: dict[str, float] = {}
    for name in _NOVELTY:
        value = values[name]
        if value is None:
            novelty[name] = 0.0
            continue
        known = ttl_seen(entity["seen"][name], value, now, limits.ttl, limits.cap)
        novelty[name] = 0.0 if known or n == 0 else 1.0
        if novelty[name]:
            facts[f"new_{name}"] = value

    share = hour_share(entity["hours"], hour)
    odd = 1.0 - min(1.0, share * 4.0) if n else 0.0
    facts["odd_hour"] = (
        f"{int(hour):02d}:{int(tod * 1440) % 60:02d} UTC ({share:.0%} of usual activity near this hour)"
    )

    failed = 1.0 if event.outcome is Outcome.FAILURE else 0.0
    rs = decay(float(entity["rs"]), last, now, _SHORT)
    rl = decay(float(entity["rl"]), last, now, _LONG)
    fs = decay(float(entity["fs"]), last, now, _SHORT)
    fl = decay(float(entity["fl"]), last, now, _LONG)
    nr = decay(float(entity["nr"]), last, now, _HOUR)
    # decayed counts per second, comparable between half-lives
    short_rate = (rs + 1.0) / (_SHORT / math.log(2))
    long_rate = (rl + 1.0) / (_LONG / math.log(2))
    ratio = short_rate / long_rate if n else 1.0
    facts["rate_ratio"] = f"{ratio:.0f}x the entity's usual event rate"
    failure_short = (fs + failed) / (rs + 1.0)
    failure_long = fl / rl if rl > 0 else 0.0
    facts["failure_short"] = (
        f"failure ratio {failure_short:.0%} in the last minutes (usual {failure_long:.0%})"
    )

    volume = _volume(event)
    volume_feature = 0.0
    vn = float(entity["vn"])
    vm = float(entity["vm"])
    if volume is not None:
        logv = math.log1p(volume)
        if vn >= 3:
            volume_feature = squash(max(0.0, logv - vm), 2.0)
            facts["volume"] = f"volume {volume:.0f}, {math.expm1(max(0.0, logv - vm)) + 1:.0f}x the usual"
        vn += 1.0
        vm += (logv - vm) / min(vn, 50.0)

    rarity = population.rarity(event.action)
    facts["action_rarity"] = f"action {event.action!r} is rare across all actors"
    features = {
        "hour_sin": 0.5 + 0.5 * math.sin(2 * math.pi * tod),
        "hour_cos": 0.5 + 0.5 * math.cos(2 * math.pi * tod),
        "dow_sin": 0.5 + 0.5 * math.sin(2 * math.pi * dow),
        "dow_cos": 0.5 + 0.5 * math.cos(2 * math.pi * dow),
        "odd_hour": odd,
        "new_ip": novelty["ip"],
        "new_network": novelty["network"],
        "new_country": novelty["country"],
        "new_user_agent": novelty["user_agent"],
        "new_resource": novelty["resource"],
        "new_action": novelty["action"],
        "novelty": sum(novelty.values()) / len(novelty),
        "action_rarity": rarity,
        "failure_short": min(1.0, failure_short),
        "failure_long": min(1.0, failure_long),
        "rate_ratio": squash(max(0.0, ratio - 1.0), 20.0),
        "new_resources_hour": squash(nr + novelty["resource"], 10.0),
        "volume": volume_feature,
    }
    facts["new_resources_hour"] = f"{nr + novelty['resource']:.0f} new resources in the last hour"

    hour_profile_update(entity["hours"], hour)
    entity.update(
        n=n + 1,
        t=max(now, last),
        rs=rs + 1.0,
        rl=rl + 1.0,
        fs=fs + failed,
        fl=fl + failed,
        nr=nr + novelty["resource"],
        vm=vm,
        vn=vn,
    )
    population.learn(event.action)
    return Observation(features=features, facts=facts, seen_before=n)
