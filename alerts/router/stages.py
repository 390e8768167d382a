"""The notification pipeline's stages, each a small function over one flush.

Alertmanager builds its pipeline from stages composed in sequence and fanned
out per receiver's integration; so do we::

    flush(group) -> MuteStage(inhibitor) -> MuteStage(time intervals) -> MuteStage(silencer)
                 -> for each integration: dedup_stage -> (deliver with retries) -> record

The mute stages drop alerts from the flush and remember why. The dedup stage
compares what would be sent with the notification log (``needs_update``,
Alertmanager's ``DedupStage``). Delivery and recording happen later, outside
this module (see :mod:`alerts.router.dispatch` and :mod:`alerts.router.delivery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.notification import AlertState
from alerts.router.mute import Muter
from alerts.router.state import NflogEntry

__all__ = ["FlushContext", "MuteStage", "needs_update", "run_stages"]


@dataclass
class FlushContext:
    """The alerts of one group at one flush, as the stages leave them."""

    group_id: str
    now: datetime
    alerts: list[AlertState]
    muted: dict[str, str] = field(default_factory=dict)
    """Fingerprint -> why it was muted."""


@dataclass(frozen=True)
class MuteStage:
    """Drop the alerts a :class:`~alerts.router.mute.Muter` mutes."""

    muter: Muter

    def __call__(self, context: FlushContext) -> FlushContext:
        kept: list[AlertState] = []
        for state in context.alerts:
            reason = self.muter.mutes(state.labels, context.now)
            if reason is None:
                kept.append(state)
            else:
                context.muted[state.fingerprint] = reason
        context.alerts = kept
        return context


def run_stages(context: FlushContext, stages: list[MuteStage]) -> FlushContext:
    for stage in stages:
        context = stage(context)
        if not context.alerts:
            break
    return context


def needs_update(
    entry: NflogEntry | None,
    firing: set[str],
    resolved: set[str],
    *,
    send_resolved: bool,
    repeat_interval: float,
    now: datetime,
) -> bool:
    """Whether an integration must be notified (Alertmanager's ``DedupStage.needsUpdate``).

    * never notified: only if something fires;
    * something fires that was not in the last notification: yes;
    * nothing fires: only if the last notification had firing alerts (to clear them);
    * resolved alerts changed and the integration wants them: yes;
    * otherwise: once ``repeat_interval`` has passed since the last notification.
    """
    if entry is None or entry.sent_at is None:
        return bool(firing)
    if not entry.is_firing_subset(firing):
        return True
    if not firing:
        return bool(entry.firing)
    if send_resolved and not entry.is_resolved_subset(resolved):
        return True
    return entry.sent_at + timedelta(seconds=repeat_interval) <= now
