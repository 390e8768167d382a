"""The worker's HTTP API (issue 8): alerts, silences, rules, trends, health, archive, access review.

Bearer tokens with three roles (:mod:`pipeline.api.roles`), hashed at rest
(:mod:`pipeline.api.tokens`); every call is an audit event of its own
(:mod:`pipeline.api.audit`). :func:`create_api` builds the app over an
:class:`ApiBackend`; the worker hosts it with :mod:`pipeline.api.hosting`.
"""

from pipeline.api.alertbook import AlertBook, AlertState
from pipeline.api.app import create_api
from pipeline.api.audit import AuditRing, api_event
from pipeline.api.backend import ApiBackend
from pipeline.api.roles import Role
from pipeline.api.tokens import TokenStore

__all__ = [
    "AlertBook",
    "AlertState",
    "ApiBackend",
    "AuditRing",
    "Role",
    "TokenStore",
    "api_event",
    "create_api",
]
