"""Permission names and the ``*`` wildcards of a policy, IAM style.

A permission is ``service:Operation`` (``s3:GetObject``), whatever the event's
source. ``permission_of`` derives it from a canonical event, the service being
the AWS service for AWS calls and the reporting system otherwise:

- an action that already holds a ``:`` is taken as it is (``s3:GetObject``);
- a CloudTrail event (``origin.service`` ``s3.amazonaws.com``, action
  ``GetObject``) gets the service's prefix: ``s3:GetObject``;
- an ``aws.cloudtrail`` event without a service whose action is dotted (the
  simulator's and the SDK's shorthand ``s3.GetObject``) is split at its first
  dot: ``s3:GetObject``;
- an action that starts with its system's name and a dot is split there
  (auditwatch's own ``auditwatch.api.alerts.ack`` -> ``auditwatch:api.alerts.ack``);
- any other action is qualified by the reporting system: ``acme.sso:login``,
  ``okta:user.session.start``, ``k8s.audit:get``.

So one policy language covers every source, and a policy written for
CloudTrail's names applies to the simulator's.

A pattern is a permission in which ``*`` stands for any run of characters
(possibly none) in the operation part, or the single pattern ``*`` (everything).
The service part is literal: ``*:Get*`` would cross services, which IAM does
not allow either. Matching ignores case, as IAM does.

``contains(outer, inner)`` decides whether every permission ``inner`` matches
is also matched by ``outer`` (``s3:*`` contains ``s3:Get*``; ``s3:Get*`` does
not contain ``s3:*``). With ``*`` as the only wildcard this is exact: ``inner``'s
stars may only be absorbed by stars of ``outer``.

>>> contains("s3:*", "s3:Get*"), contains("s3:Get*", "s3:*"), matches("s3:Get*", "S3:GetObject")
(True, False, True)
"""

from __future__ import annotations

import re
from functools import lru_cache

from detectors.events import AuditEvent

__all__ = ["contains", "matches", "pattern_problem", "permission_of"]

_SERVICE = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_OPERATION = r"[A-Za-z0-9_.\-/*]+"
_PATTERN = re.compile(rf"^(?:\*|{_SERVICE}:{_OPERATION})$")
_AWS_SUFFIX = ".amazonaws.com"
_CLOUDTRAIL = "aws.cloudtrail"


def permission_of(event: AuditEvent) -> str:
    """The ``service:Operation`` name of the permission an event exercised (see the module doc)."""
    action = event.action
    if ":" in action:
        return action
    system, service = event.origin.system, event.origin.service or ""
    if service.endswith(_AWS_SUFFIX):
        return f"{service.removesuffix(_AWS_SUFFIX)}:{action}"
    head, dot, rest = action.partition(".")
    if dot and head and rest and (system == _CLOUDTRAIL or head == system):
        return f"{head}:{rest}"
    return f"{system}:{action}"


def pattern_problem(pattern: object) -> str | None:
    """What is wrong with a policy pattern, phrased as what to write instead; None when it is fine."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "a permission must be a non-empty string such as s3:GetObject, s3:Get* or *"
    if _PATTERN.match(pattern):
        return None
    service, colon, _ = pattern.partition(":")
    if not colon:
        return f"{pattern!r} has no service prefix; write service:Operation, e.g. s3:GetObject or s3:*"
    if "*" in service:
        return f"{pattern!r}: the service part cannot hold a wildcard; name the service (s3:Get*) or use *"
    bad = sorted({c for c in pattern if not re.match(r"[A-Za-z0-9_.\-/*:]", c)})
    if bad:
        return (
            f"{pattern!r}: {''.join(bad)!r} is not allowed; only * is a wildcard "
            "(letters, digits, _ . - / otherwise)"
        )
    return f"{pattern!r} is not service:Operation; write e.g. s3:GetObject or s3:Get*"


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in pattern.casefold()) + r"\Z")


def matches(pattern: str, permission: str) -> bool:
    """Whether a pattern grants a permission (case-insensitive)."""
    return _regex(pattern).match(permission.casefold()) is not None


def contains(outer: str, inner: str) -> bool:
    """Whether every permission ``inner`` matches is matched by ``outer``."""
    return _covers(_squash(outer.casefold()), _squash(inner.casefold()))


def _squash(pattern: str) -> str:
    return re.sub(r"\*+", "*", pattern)


def _covers(outer: str, inner: str) -> bool:
    """Glob ``outer`` matches string ``inner`` in which ``*`` is a symbol only ``outer``'s ``*`` absorbs."""
    # reachable[j]: outer[:i] can match inner[:j]; classic glob DP, O(len(outer) * len(inner))
    reachable = [True] + [False] * len(inner)
    for char in outer:
        if char == "*":
            for j in range(1, len(inner) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [
                reachable[j - 1] and inner[j - 1] == char for j in range(1, len(inner) + 1)
            ]
    return reachable[-1]
