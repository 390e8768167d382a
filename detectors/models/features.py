"""Features: a canonical event plus its entity's bounded state in, a dict of numbers out.

``measure`` computes the features of an event from what the entity did *before*
it, reading the state only; ``learn`` then folds the event into the entity's
state (prequential order); ``observe`` does both. Every feature is in [0, 1]
with 0 the usual, so models see one scale without a scaler (HalfSpaceTrees
assumes [0, 1]) and explanations can say how far from the entity's normal an
event was.

| feature | meaning |
|---|---|
| ``hour_sin``, ``hour_cos``, ``dow_sin``, ``dow_cos`` | time of day and week, cyclically encoded, in [0, 1] |
| ``odd_hour`` | 1 - the entity's share of activity at this hour (and either side); 0 until the |
| | entity has 3 days of history: a profile of a session or two makes its other working hours odd |
| ``new_ip``, ``new_network``, ``new_country`` | new for this entity within ``ttl``, weighed by the |
| | enclosing levels it knows (``detectors.models.novelty``): a new home IP in the usual country is 0.25 |
| ``new_resource`` | new for this entity, a quarter if its family (folder, bucket, series) is known |
| ``new_user_agent``, ``new_action`` | 1 if not seen for this entity within ``ttl`` |
| ``novelty`` | the mean of those six |
| ``action_rarity`` | how rare the action is across the whole population (a quarter of that if the |
| | actor already uses it: an admin's rare ``iam.ListUsers`` is their habit) |
| ``failure_short``, ``failure_long`` | the entity's failure ratio over ~5 minutes and ~1 day |
| ``rate_ratio`` | the entity's ~5-minute event rate against its usual ~5-minute rate *when active* |
| | (people work in bursts: against the daily rate every session looked like a 50x spike) |
| ``new_resources_hour`` | distinct new resources touched in the last ~hour |
| ``volume`` | how many deviations the log of bytes or object counts is above the entity's usual (the |
| | population's while the entity has fewer than 3 volumes); 0 if the source has none |

What an entity's profile learns follows the detector's AnomalyFilter semantics
(``learn(..., flagged=True)``): an event the detector flagged after the entity's
warm-up does not become known (its IP, network, country, user agent, resource and
action stay new), does not move the hour profile, the usual active rate or the
volume baselines (the entity's and the population's), and does not count in
``new_resources_hour``. Otherwise an attack teaches the profile, and its slow
variant a day later looks normal; and one burst of new resources keeps the hour's
count high for the normal events after it. The rate and failure windows still
count flagged events: they measure what the entity does now, not what is normal
for it, an attack that stopped counting once flagged would look quiet while it
goes on, and they forget within minutes. A value first seen in a flagged event is
quarantined (``detectors.models.sketch.ttl_suspect``): new for the hour after it,
so the rest of the burst still looks new, then known, so a genuine new habit the
detector flagged (an admin's first ``iam.ListUsers``) does not alert every day;
the volume, hours and rate baselines never learn it. The bounded sets evict
suspects and one-off values before habits (``detectors.models.sketch.ttl_record``),
so an attacker's sixty resources do not make the victim's usual ones look new.

Memory per entity: 7 TTL sets (8 when events carry an ASN) of at most
``EntityLimits.cap`` keys (~45 bytes of JSON each), 24 floats of hour profile
and 15 counters: about 3.4 KB of JSON at the default cap of 16, whatever the
traffic.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any

from detectors.events import AuditEvent, Outcome
from detectors.models.novelty import (
    KNOWN_LEVEL_WEIGHT,
    NOVELTY,
    PARENTS,
    asn_of,
    country_of,
    novelty_weights,
    resource_family,
)
from detectors.models.sketch import (
    decay,
    hour_profile_update,
    hour_share,
    key_of,
    squash,
    ttl_known,
    ttl_record,
    ttl_suspect,
)
from detectors.models.volume import stats_update, volume_measure, volume_of, winsorised

__all__ = [
    "FEATURES",
    "STATE_VERSION",
    "EntityLimits",
    "Observation",
    "Population",
    "learn",
    "measure",
    "new_entity",
    "observe",
]

STATE_VERSION = 2
"""2: first-seen time, usual active rate, volume spread and the ASN set (read from version 1 too)."""

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
_FEATURED = ("ip", "network", "country", "user_agent", "resource", "action")
"""The novelty kinds that are features (and make up ``novelty``)."""
_PROFILE_HISTORY = 3 * 86_400.0
_PROFILE_HALF_LIFE = 14 * 86_400.0
"""The hour profile forgets by time: half of its weight after two weeks."""
_ODD_SCALE = 12.0
"""``odd_hour`` is 0 where the share of activity near the hour is at least the uniform share (3/24 /
1.5 = 1/12): an entity active around the clock has no odd hours."""


@dataclass(frozen=True)
class EntityLimits:
    """Caps that bound one entity's memory."""

    cap: int = 16
    """Keys kept per TTL set."""
    ttl: float = 30 * 86_400.0
    """Seconds after which a value counts as new again."""
    quarantine: float = 3_600.0
    """A value first seen in a flagged event stays new this long (``ttl_suspect``): through the burst
    that brought it, not for ever after."""


@dataclass
class Population:
    """What is learned across entities: how common each action is (at most ``cap`` actions) and the
    usual log volume, the prior for an entity that has no volume of its own yet."""

    cap: int = 4096
    actions: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    vm: float = 0.0
    vv: float = 0.0
    vn: float = 0.0

    def rarity(self, action: str) -> float:
        seen = self.actions.get(key_of(action), 0.0)
        if self.total < 1.0:
            return 0.0
        return 1.0 - math.log1p(seen) / math.log1p(self.total)

    def learn(self, action: str, log_volume: float | None = None) -> None:
        key = key_of(action)
        self.actions[key] = self.actions.get(key, 0.0) + 1.0
        self.total += 1.0
        if len(self.actions) > self.cap:
            rarest = min(self.actions, key=self.actions.__getitem__)
            self.total -= self.actions.pop(rarest)
        if log_volume is not None:
            self.vm, self.vv, self.vn = stats_update(self.vm, self.vv, self.vn, log_volume, span=5000.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "cap": self.cap,
            "actions": self.actions,
            "total": self.total,
            "vm": self.vm,
            "vv": self.vv,
            "vn": self.vn,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Population:
        return cls(
            cap=int(data["cap"]),
            actions=dict(data["actions"]),
            total=float(data["total"]),
            vm=float(data.get("vm", 0.0)),
            vv=float(data.get("vv", 0.0)),
            vn=float(data.get("vn", 0.0)),
        )


@dataclass(frozen=True)
class Observation:
    """An event's features, the facts an explanation quotes, and what ``learn`` folds in."""

    features: dict[str, float]
    facts: dict[str, str]
    seen_before: int
    """How many events of this entity came before this one (the warm-up counter)."""
    update: dict[str, Any] = field(default_factory=dict, repr=False)
    """The event's values and decayed counters, computed once by ``measure`` for ``learn``."""


def new_entity() -> dict[str, Any]:
    """The state of an entity never seen before (plain JSON)."""
    return {
        "v": STATE_VERSION,
        "n": 0,
        "t": 0.0,
        "f0": 0.0,
        "hours": [0.0] * 24,
        "seen": {name: {} for name in _FEATURED},
        "rs": 0.0,
        "rl": 0.0,
        "fs": 0.0,
        "fl": 0.0,
        "nr": 0.0,
        "ra": 0.0,
        "vm": 0.0,
        "vv": 0.0,
        "vn": 0.0,
    }


def _network(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) around ``ip``; IPv4 by string, which is 10x faster than parsing."""
    if ip is None:
        return None
    parts = ip.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) < 256 and (p == "0" or p[0] != "0") for p in parts):
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"
    try:
        return str(ipaddress.ip_network(f"{ip}/{24 if ':' not in ip else 48}", strict=False))
    except ValueError:
        return None


def measure(
    event: AuditEvent, entity: dict[str, Any], population: Population, limits: EntityLimits = EntityLimits()
) -> Observation:
    """Features of ``event`` from ``entity``'s past; reads ``entity`` and ``population`` only."""
    now = event.epoch
    tod = (now % 86_400.0) / 86_400.0
    dow = ((now // 86_400.0 + 3) % 7) / 7.0  # 1970-01-01 was a Thursday; 0 = Monday
    hour = tod * 24.0
    n = int(entity["n"])
    last = float(entity["t"])
    facts: dict[str, str] = {}

    ip = str(event.source.ip) if event.source.ip is not None else None
    resource = (event.resource.name or event.resource.id) if event.resource is not None else None
    values = {
        "ip": ip,
        "network": _network(ip),
        "asn": asn_of(event),
        "country": country_of(event),
        "user_agent": event.source.user_agent,
        "resource": resource,
        "resource_family": resource_family(resource),
        "action": event.action,
    }
    seen = entity["seen"]
    known = {
        name: value is not None and ttl_known(seen.get(name, {}), value, now, limits.ttl, limits.quarantine)
        for name, value in values.items()
    }
    novelty = novelty_weights(values, known) if n else {f"new_{name}": 0.0 for name in NOVELTY}
    for name in _FEATURED:
        weight = novelty[f"new_{name}"]
        if weight:
            familiar = [level for level in PARENTS.get(name, ()) if known[level]]
            facts[f"new_{name}"] = str(values[name]) + (
                f" (usual {familiar[-1].replace('_', ' ')} {values[familiar[-1]]})" if familiar else ""
            )

    share = hour_share(entity["hours"], hour)
    has_day = n > 0 and now - float(entity.get("f0", 0.0)) >= _PROFILE_HISTORY
    odd = 1.0 - min(1.0, share * _ODD_SCALE) if has_day else 0.0
    facts["odd_hour"] = (
        f"{int(hour):02d}:{int(tod * 1440) % 60:02d} UTC ({share:.0%} of usual activity near this hour)"
    )

    failed = 1.0 if event.outcome is Outcome.FAILURE else 0.0
    rs = decay(float(entity["rs"]), last, now, _SHORT)
    rl = decay(float(entity["rl"]), last, now, _LONG)
    fs = decay(float(entity["fs"]), last, now, _SHORT)
    fl = decay(float(entity["fl"]), last, now, _LONG)
    nr = decay(float(entity["nr"]), last, now, _HOUR)
    # the short decayed count (this event included) against its usual value at the entity's events
    active = rs + 1.0
    ratio = active / max(float(entity.get("ra", 0.0)), 1.0) if n else 1.0
    facts["rate_ratio"] = f"{ratio:.1f}x the actor's usual event rate when active"
    failure_short = (fs + failed) / (rs + 1.0)
    failure_long = fl / rl if rl > 0 else 0.0
    facts["failure_short"] = (
        f"failure ratio {failure_short:.0%} in the last minutes (usual {failure_long:.0%})"
    )
    own = (float(entity["vm"]), float(entity.get("vv", 0.0)), float(entity["vn"]))
    usual = (population.vm, population.vv, population.vn)
    volume_feature, logv = volume_measure(volume_of(event), own, usual, facts)

    # a rare action the actor already uses is its habit (an admin's iam.ListUsers), not news
    rarity = population.rarity(event.action) * (KNOWN_LEVEL_WEIGHT if known["action"] else 1.0)
    facts["action_rarity"] = f"action {event.action!r} is rare across all actors"
    # distinct new resources per hour counts each new resource once, whatever its family
    unseen = 1.0 if n and resource is not None and not known["resource"] else 0.0
    features = {
        "hour_sin": 0.5 + 0.5 * math.sin(2 * math.pi * tod),
        "hour_cos": 0.5 + 0.5 * math.cos(2 * math.pi * tod),
        "dow_sin": 0.5 + 0.5 * math.sin(2 * math.pi * dow),
        "dow_cos": 0.5 + 0.5 * math.cos(2 * math.pi * dow),
        "odd_hour": odd,
        **{f"new_{name}": novelty[f"new_{name}"] for name in _FEATURED},
        "novelty": sum(novelty[f"new_{name}"] for name in _FEATURED) / len(_FEATURED),
        "action_rarity": rarity,
        "failure_short": min(1.0, failure_short),
        "failure_long": min(1.0, failure_long),
        "rate_ratio": squash(max(0.0, ratio - 1.0), 4.0),
        "new_resources_hour": squash(nr + unseen, 10.0),
        "volume": volume_feature,
    }
    facts["new_resources_hour"] = f"{nr + unseen:.0f} new resources in the last hour"
    update = {
        "now": now,
        "hour": hour,
        "values": values,
        "failed": failed,
        "counters": (rs, rl, fs, fl, nr),
        "new_resource": unseen,
        "logv": logv,
    }
    return Observation(features=features, facts=facts, seen_before=n, update=update)


def learn(
    event: AuditEvent,
    entity: dict[str, Any],
    population: Population,
    obs: Observation,
    limits: EntityLimits = EntityLimits(),
    flagged: bool = False,
) -> None:
    """Fold ``event`` (measured as ``obs``) into ``entity`` and ``population``.

    ``flagged``: the detector flagged the event (after warm-up). It then updates
    only the event count, the clock and the rate and failure windows: what the
    entity does now, not what is normal for it (see the module docstring).
    """
    u = obs.update
    now = float(u["now"])
    rs, rl, fs, fl, nr = u["counters"]
    n = int(entity["n"])
    active = rs + 1.0
    keep = decay(1.0, float(entity["t"]), now, _PROFILE_HALF_LIFE)
    entity.update(
        v=STATE_VERSION,
        n=n + 1,
        t=max(now, float(entity["t"])),
        f0=now if n == 0 else float(entity.get("f0", 0.0)),
        rs=active,
        rl=rl + 1.0,
        fs=fs + u["failed"],
        fl=fl + u["failed"],
        nr=nr if flagged else nr + u["new_resource"],
    )
    if flagged:
        for name, value in u["values"].items():
            if value is not None:
                ttl_suspect(entity["seen"].setdefault(name, {}), value, now, limits.cap)
        return
    for name, value in u["values"].items():
        if value is not None:
            ttl_record(entity["seen"].setdefault(name, {}), value, now, limits.cap)
    hour_profile_update(entity["hours"], u["hour"], keep=keep)
    ra = float(entity.get("ra", 0.0))
    entity["ra"] = active if n == 0 else ra + (active - ra) / min(n + 1, 50)
    logv = u["logv"]
    if logv is not None:
        vm, vv, vn = float(entity["vm"]), float(entity.get("vv", 0.0)), float(entity["vn"])
        usual = (vm, vv, vn) if vn >= 3 else (population.vm, population.vv, population.vn)
        vm, vv, vn = stats_update(vm, vv, vn, winsorised(logv, *usual))
        entity.update(vm=vm, vv=vv, vn=vn)
        logv = winsorised(logv, population.vm, population.vv, population.vn)
    population.learn(event.action, logv)


def observe(
    event: AuditEvent, entity: dict[str, Any], population: Population, limits: EntityLimits = EntityLimits()
) -> Observation:
    """Features of ``event`` from ``entity``'s past; then learn it into ``entity`` and ``population``."""
    obs = measure(event, entity, population, limits)
    learn(event, entity, population, obs, limits)
    return obs
