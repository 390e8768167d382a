"""The least-privilege access review, after AWS IAM Access Analyzer's policy generation and audit2rbac.

Pure functions over canonical events: no Faust, no Kafka. Entry points:

- ``review_sources(sources, since="90d", now=None, policy_path=None)`` reads
  event files or archive directories; ``review_events(events, since, now,
  policy)`` takes events in memory. Both return an ``AccessReview``, whose
  ``to_json()`` is what ``GET /api/v1/access/review`` serves.
- ``load_policy(path)`` and ``excess_grants(policy, baseline)`` behind
  ``auditwatch access check``.
- Permission names and wildcards: ``pipeline.access.actions``; what counts as
  use (outcome-aware): ``pipeline.access.usage``.

The JSON (``format`` = ``auditwatch.access-review/1``; times ISO 8601 UTC;
every list sorted, so equal input gives identical output)::

    {
      "format": "auditwatch.access-review/1",
      "window": {"since": "90d", "start": "...", "end": "..."},
      "policy": "config/access/policy.yaml" | null,
      "input": {"records", "rejected", "rejected_examples": ["file:line: reason"], "events", "in_window"},
      "principals": [{
          "principal": "alice", "actor_type": "human", "in_policy": true, "roles": ["engineer"],
          "events": 12, "first_seen": "...", "last_seen": "..." | null,       # null: dormant member
          "used": [{"action": "s3:GetObject", "count": 9, "unconfirmed": 0,
                    "resource_types": ["object"], "first_seen", "last_seen",
                    "granted_by": ["engineer"]}],                  # [] = used with no grant
          "denied": [{"action": "iam:CreateUser", "count": 2, "last_seen",
                      "granted_by": []}],                          # non-empty: failed despite a grant
          "unused": [{"permission": "s3:Delete*", "roles": ["engineer"]}],   # granted, never used
          "ungranted": ["iam:AttachUserPolicy"]            # used; none of its roles grants it
      }],
      "roles": [{"role": "engineer", "members": [...], "allow": [...], "used": [...], "unused": [...],
                 "proposed": [...]}],
      "unassigned": ["carol"],                 # seen in the window, no role in the policy
      "proposed_policy": {"roles": {"engineer": {"allow": [...]}}, "members": {"alice": ["engineer"]}},
      "proposal_rule": "how wildcards were kept or expanded"
    }

Without a policy, ``roles``, ``unused``, ``ungranted`` and ``unassigned`` are
empty, ``granted_by`` is ``[]``, and the proposal gives each principal a role of
its own with exactly what it used (as audit2rbac does).
"""

from pipeline.access.actions import contains, matches, permission_of
from pipeline.access.check import Excess, excess_grants
from pipeline.access.policy import Policy, Role, load_policy
from pipeline.access.report import FORMAT, AccessReview
from pipeline.access.review import PROPOSAL_RULE, build_review, propose_allow, review_events, review_sources
from pipeline.access.usage import Usage, collect_usage
from pipeline.access.window import Window, parse_duration

__all__ = [
    "FORMAT",
    "PROPOSAL_RULE",
    "AccessReview",
    "Excess",
    "Policy",
    "Role",
    "Usage",
    "Window",
    "build_review",
    "collect_usage",
    "contains",
    "excess_grants",
    "load_policy",
    "matches",
    "parse_duration",
    "permission_of",
    "propose_allow",
    "review_events",
    "review_sources",
]
