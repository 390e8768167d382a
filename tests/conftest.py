"""Test-wide settings: a hypothesis profile fit for a shared, noisy 2-core machine."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "auditwatch",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=200,
)
settings.load_profile("auditwatch")
