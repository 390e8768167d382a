"""Turn observed usage and a policy into the review, and propose a least-privilege policy.

The proposal never grants more than was granted, and keeps a pattern only
where it was used (``PROPOSAL_RULE`` says exactly how wildcards are treated).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from detectors.events import AuditEvent
from pipeline.access.actions import matches
from pipeline.access.policy import Policy, load_policy
from pipeline.access.report import (
    AccessReview,
    DeniedAttempt,
    InputSummary,
    PrincipalReview,
    RoleReview,
    UnusedGrant,
    UsedAction,
    WindowInfo,
)
from pipeline.access.sources import ReadStats, read_events
from pipeline.access.usage import PrincipalUsage, Usage, collect_usage
from pipeline.access.window import Window

__all__ = ["PROPOSAL_RULE", "build_review", "propose_allow", "review_events", "review_sources"]

PROPOSAL_RULE = (
    "Each role keeps only what its members used in the window. A granted pattern nobody used is dropped. "
    "A wildcard pattern is kept as it is only when its whole family was used: every permission it matches "
    "that anyone used or attempted in the window (at least two) was used by the role's members; "
    "otherwise it is replaced by the permissions the members used. A member keeps only the roles that "
    "granted something it used; a member who used none, and a role left with nothing, are removed. "
    "Without a policy, each principal gets a role of its own listing exactly what it used."
)


def propose_allow(granted: Iterable[str], used: set[str], family: set[str]) -> list[str]:
    """The least-privilege allow list of one role (see ``PROPOSAL_RULE``).

    ``used``: permissions the role's members used that the role grants;
    ``family``: every permission seen in the window.

    >>> propose_allow(["s3:Get*", "s3:Put*", "ec2:*"], {"s3:GetObject", "s3:GetAcl", "ec2:Run"},
    ...               {"s3:GetObject", "s3:GetAcl", "ec2:Run", "ec2:Stop"})
    ['ec2:Run', 's3:Get*']
    """
    kept: list[str] = []
    explicit: set[str] = set()
    for pattern in granted:
        hit = {p for p in used if matches(pattern, p)}
        if not hit:
            continue
        members = {p for p in family if matches(pattern, p)}
        if "*" in pattern and len(members) >= 2 and members <= hit:
            kept.append(pattern)
        else:
            explicit |= hit
    wildcards = [p for p in kept if "*" in p]
    extra = {p for p in explicit if not any(matches(w, p) for w in wildcards)}
    return sorted(set(kept) | extra)


def _principal(
    name: str, usage: PrincipalUsage | None, policy: Policy | None
) -> tuple[PrincipalReview, set[str]]:
    """A principal's review, and the permissions it used that its roles grant."""
    roles = list(policy.roles_of(name)) if policy is not None else []
    used_entries = []
    denied_entries = []
    granted_use: set[str] = set()
    ungranted: list[str] = []
    for action, stats in sorted((usage.used if usage else {}).items()):
        by = policy.granting_roles(name, action) if policy is not None else []
        if by:
            granted_use.add(action)
        elif policy is not None:
            ungranted.append(action)
        assert stats.first_seen is not None and stats.last_seen is not None
        used_entries.append(
            UsedAction(
                action=action,
                count=stats.count,
                unconfirmed=stats.unconfirmed,
                resource_types=sorted(stats.resource_types),
                first_seen=stats.first_seen,
                last_seen=stats.last_seen,
                granted_by=by,
            )
        )
    for action, stats in sorted((usage.denied if usage else {}).items()):
        assert stats.last_seen is not None
        by = policy.granting_roles(name, action) if policy is not None else []
        denied_entries.append(
            DeniedAttempt(action=action, count=stats.count, last_seen=stats.last_seen, granted_by=by)
        )
    unused: dict[str, list[str]] = {}
    if policy is not None:
        for role in roles:
            for pattern in policy.roles[role].allow:
                if not any(matches(pattern, p) for p in granted_use):
                    unused.setdefault(pattern, []).append(role)
    review = PrincipalReview(
        principal=name,
        actor_type=usage.actor_type if usage else "unknown",
        in_policy=policy is not None and name in policy.members,
        roles=roles,
        events=usage.events if usage else 0,
        first_seen=usage.first_seen if usage else None,
        last_seen=usage.last_seen if usage else None,
        used=used_entries,
        denied=denied_entries,
        unused=[UnusedGrant(permission=p, roles=r) for p, r in sorted(unused.items())],
        ungranted=ungranted,
    )
    return review, granted_use


def build_review(
    usage: Usage,
    window: Window,
    policy: Policy | None = None,
    policy_name: str | None = None,
    stats: ReadStats | None = None,
) -> AccessReview:
    """The review of ``usage`` against ``policy`` (or without one)."""
    stats = stats or ReadStats(records=usage.events)
    names = sorted(set(usage.principals) | (set(policy.members) if policy is not None else set()))
    principals: list[PrincipalReview] = []
    granted_use: dict[str, set[str]] = {}
    for name in names:
        review, granted_use[name] = _principal(name, usage.principals.get(name), policy)
        principals.append(review)
    family = usage.seen_permissions()
    roles: list[RoleReview] = []
    proposed: dict[str, Any]
    if policy is not None:
        proposed_roles: dict[str, Any] = {}
        for role_name, role in sorted(policy.roles.items()):
            members = sorted(m for m, rs in policy.members.items() if role_name in rs)
            used = {
                p
                for m in members
                for p in granted_use.get(m, set())
                if role_name in policy.granting_roles(m, p)
            }
            used_patterns = [p for p in role.allow if any(matches(p, u) for u in used)]
            allow = propose_allow(role.allow, used, family)
            roles.append(
                RoleReview(
                    role=role_name,
                    members=members,
                    allow=list(role.allow),
                    used=used_patterns,
                    unused=[p for p in role.allow if p not in used_patterns],
                    proposed=allow,
                )
            )
            if allow:
                proposed_roles[role_name] = {"allow": allow}
        proposed = {"roles": proposed_roles, "members": _kept_members(policy, granted_use)}
    else:
        proposed = {
            "roles": {p.principal: {"allow": [u.action for u in p.used]} for p in principals if p.used},
            "members": {p.principal: [p.principal] for p in principals if p.used},
        }
    return AccessReview(
        window=WindowInfo(since=window.since, start=window.start, end=window.end),
        policy=policy_name,
        input=InputSummary(
            records=stats.records,
            rejected=stats.rejected,
            rejected_examples=list(stats.reasons),
            events=usage.events,
            in_window=usage.in_window,
        ),
        principals=principals,
        roles=roles,
        unassigned=[p.principal for p in principals if policy is not None and not p.roles and p.events],
        proposed_policy=proposed,
        proposal_rule=PROPOSAL_RULE,
    )


def _kept_members(policy: Policy, granted_use: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each member keeps the roles that granted something it used; a member left with none goes."""
    kept = {
        member: [r for r in roles if any(r in policy.granting_roles(member, p) for p in granted_use[member])]
        for member, roles in sorted(policy.members.items())
    }
    return {member: roles for member, roles in kept.items() if roles}


def review_events(
    events: Iterable[AuditEvent], since: str, now: datetime | None = None, policy: Policy | None = None
) -> AccessReview:
    """Review events already in memory (the API's entry point when it holds the events)."""
    window = Window.back_from(since, now)
    return build_review(collect_usage(events, window), window, policy)


def review_sources(
    sources: list[str], since: str, now: datetime | None = None, policy_path: Path | None = None
) -> AccessReview:
    """Review files and archive directories; ``ConfigError`` or ``InputError`` on bad input."""
    window = Window.back_from(since, now)
    policy = load_policy(policy_path) if policy_path is not None else None
    stats = ReadStats()
    usage = collect_usage(read_events(sources, stats), window)
    return build_review(usage, window, policy, str(policy_path) if policy_path else None, stats)
