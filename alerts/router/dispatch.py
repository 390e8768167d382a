"""Aggregation groups: alerts in, notifications out, with Alertmanager's timers.

:class:`GroupDispatcher` is the router's core, with no Kafka and no clock of
its own. The pipeline calls it for each record of a partition:

* :meth:`~GroupDispatcher.ingest` a :class:`RoutedAlert`: the alert joins its
  group. A new group flushes ``group_wait`` after its first alert;
* :meth:`~GroupDispatcher.flush_due` on each tick: every group of the
  partition whose time has come is flushed through the stages (inhibit, time
  intervals, silence, then per integration dedup), and the next flush is set
  ``group_interval`` later. Each notification to send comes back as a
  :class:`DeliveryJob`, and is first written to the notification log as
  *pending*;
* :meth:`~GroupDispatcher.record` a :class:`DeliveryResult`: the pending
  notification becomes the integration's last notification.

A group with a pending notification does not flush again until it is
recorded, as an Alertmanager group waits for its notify call. A pending
notification that no delivery in this process is working on (the worker that
was sending it died, or the partition moved here) is handed out again, with
the same id, by the next :meth:`flush_due`: nothing decided is forgotten, and
a receiver that got it before can drop the copy by its id.

A resolved alert stays in its group until a flush after the one that saw it
resolved, so that the notification of its resolution is built from stored
state if it has to be re-sent; a group with no alerts left is removed.
"""

from __future__ import annotations

import heapq
from collections.abc import Container, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.model import Alert
from alerts.notification import AlertState, Notification, notification_id, routing_labels
from alerts.router.messages import DeliveryResult, RoutedAlert
from alerts.router.mute import Muter
from alerts.router.route import DEFAULT_OPTS, RouteOpts
from alerts.router.spec import RouterSpec
from alerts.router.stages import FlushContext, MuteStage, needs_update, run_stages
from alerts.router.state import (
    GroupState,
    NflogEntry,
    PendingNotification,
    StoredAlert,
    alert_key,
    nflog_key,
)

__all__ = ["DeliveryJob", "FlushReport", "GroupDispatcher", "IntegrationRef", "job_key"]

Store = MutableMapping[str, Any]


@dataclass(frozen=True)
class IntegrationRef:
    """What the dispatcher needs to know of an integration: its name and if it wants resolved alerts."""

    name: str
    send_resolved: bool


def job_key(group_id: str, integration: str, notification_id: str) -> str:
    return f"{group_id}|{integration}|{notification_id}"


@dataclass(frozen=True)
class DeliveryJob:
    """One notification for one integration, decided and logged as pending."""

    notification: Notification
    integration: str
    partition: int
    recovered: bool = False

    @property
    def key(self) -> str:
        """Identifies the job among those in flight."""
        return job_key(self.notification.group_id, self.integration, self.notification.id)


@dataclass
class FlushReport:
    jobs: list[DeliveryJob] = field(default_factory=list)
    flushed: int = 0
    muted: dict[str, str] = field(default_factory=dict)
    removed_groups: int = 0


class _Schedule:
    """When each group of one partition flushes next, and which have pending notifications.

    A cache of the groups store, so a tick costs a look at the groups that are
    due rather than a read of every group. It is rebuilt from the store when
    first used after :meth:`GroupDispatcher.forget` (the pipeline calls it when
    the partition is taken away, so a partition that comes back is read
    afresh), and, as a safety net, every ``rescan`` seconds.
    """

    def __init__(self) -> None:
        self.due: dict[str, datetime] = {}
        self.heap: list[tuple[datetime, str]] = []
        self.pending: set[str] = set()
        self.handed: dict[str, set[str]] = {}
        """Per pending group, the keys of its jobs already handed out: while all are in flight,
        a tick need not read the group."""
        self.scanned_at: datetime | None = None

    def set(self, group_id: str, due_at: datetime) -> None:
        if self.due.get(group_id) != due_at:
            self.due[group_id] = due_at
            heapq.heappush(self.heap, (due_at, group_id))

    def drop(self, group_id: str) -> None:
        self.due.pop(group_id, None)
        self.settle(group_id)

    def settle(self, group_id: str) -> None:
        self.pending.discard(group_id)
        self.handed.pop(group_id, None)

    def pop_due(self, now: datetime) -> list[str]:
        found: dict[str, None] = {}
        while self.heap and self.heap[0][0] <= now:
            due_at, group_id = heapq.heappop(self.heap)
            if self.due.get(group_id) == due_at:
                found[group_id] = None
        return list(found)


class GroupDispatcher:
    """Aggregation groups over three stores (see :mod:`alerts.router.state`)."""

    def __init__(
        self,
        spec: RouterSpec,
        *,
        groups: Store,
        alerts: Store,
        nflog: Store,
        integrations: Mapping[str, Sequence[IntegrationRef]],
        inhibitor: Muter,
        silencer: Muter,
        rescan: float = 600.0,
    ) -> None:
        self.spec = spec
        self.rescan = timedelta(seconds=rescan)
        self._schedules: dict[int, _Schedule] = {}
        self.groups = groups
        self.alerts = alerts
        self.nflog = nflog
        self.integrations = integrations
        self.inhibitor = inhibitor
        self.silencer = silencer

    # -- routing ---------------------------------------------------------------------------------

    def route(self, alert: Alert, now: datetime) -> list[RoutedAlert]:
        """One record per route the alert takes (the route stage's work).

        A route's ``labels`` are added to the alert's for what it notifies
        (the alert's own labels win); matching uses the alert's labels only.
        """
        labels = routing_labels(alert)
        found = []
        for route in self.spec.match(labels):
            found.append(
                RoutedAlert(
                    route_id=route.id(),
                    group_id=route.group_id(labels),
                    group_key=route.group_key(labels),
                    receiver=route.opts.receiver,
                    group_labels=route.opts.group_labels(labels),
                    labels={**route.opts.labels, **labels},
                    alert=alert,
                    routed_at=now,
                )
            )
        return found

    def _opts(self, route_id: str) -> RouteOpts:
        route = self.spec.route(route_id)
        return route.opts if route is not None else DEFAULT_OPTS

    # -- ingest ----------------------------------------------------------------------------------

    def ingest(self, routed: RoutedAlert, partition: int, now: datetime) -> GroupState:
        """Add an alert to its group, creating the group (flush after ``group_wait``) if new."""
        state = AlertState.received(routed.alert, now, self.spec.resolve_timeout, routed.labels)
        group = GroupState.load(self.groups.get(routed.group_id))
        if group is None:
            wait = self._opts(routed.route_id).group_wait
            group = GroupState(
                group_id=routed.group_id,
                group_key=routed.group_key,
                route_id=routed.route_id,
                receiver=routed.receiver,
                labels=routed.group_labels,
                partition=partition,
                created_at=now,
                next_flush_at=now + timedelta(seconds=wait),
            )
        key = alert_key(group.group_id, state.fingerprint)
        known = StoredAlert.load(self.alerts.get(key))
        if known is not None:
            state = known.state().refreshed(state)
        else:
            group.alert_ids.append(state.fingerprint)
            self.groups[group.group_id] = group.dump()
            self._schedule(group.partition, now).set(group.group_id, group.next_flush_at)
        self.alerts[key] = StoredAlert.of(state).dump()
        return group

    # -- flush -----------------------------------------------------------------------------------

    def flush_due(self, partition: int, now: datetime, in_flight: Container[str] = ()) -> FlushReport:
        """Flush the partition's due groups; hand out pending work nobody is doing."""
        report = FlushReport()
        schedule = self._schedule(partition, now)
        for group_id in list(schedule.pending):
            handed = schedule.handed.get(group_id)
            if handed and all(key in in_flight for key in handed):
                continue  # its deliveries are running: nothing to read
            group = GroupState.load(self.groups.get(group_id))
            if group is None:
                schedule.drop(group_id)
                continue
            pending = self._pending(group, self.integrations.get(group.receiver, ()), in_flight)
            if pending is None:
                schedule.settle(group_id)
                schedule.set(group_id, group.next_flush_at)
                if group.next_flush_at <= now:
                    heapq.heappush(schedule.heap, (group.next_flush_at, group_id))
            else:
                keys, jobs = pending
                schedule.handed[group_id] = keys
                report.jobs.extend(jobs)
        for group_id in schedule.pop_due(now):
            if group_id in schedule.pending:
                continue
            group = GroupState.load(self.groups.get(group_id))
            if group is None or group.partition != partition:
                schedule.drop(group_id)
                continue
            before = len(report.jobs)
            if self._flush(group, self.integrations.get(group.receiver, ()), now, report):
                schedule.pending.add(group_id)
                schedule.handed[group_id] = {job.key for job in report.jobs[before:]}
            if group.group_id in self.groups:
                schedule.set(group_id, group.next_flush_at)
            else:
                schedule.drop(group_id)
        return report

    def forget(self, partition: int) -> None:
        """Drop the partition's schedule: its groups may change elsewhere until it comes back."""
        self._schedules.pop(partition, None)

    def _schedule(self, partition: int, now: datetime) -> _Schedule:
        schedule = self._schedules.get(partition)
        if schedule is None or schedule.scanned_at is None or now - schedule.scanned_at >= self.rescan:
            schedule = self._scan(partition, now)
            self._schedules[partition] = schedule
        return schedule

    def _scan(self, partition: int, now: datetime) -> _Schedule:
        """Rebuild a partition's schedule from the groups store."""
        schedule = _Schedule()
        schedule.scanned_at = now
        for group_id in list(self.groups.keys()):
            group = GroupState.load(self.groups.get(group_id))
            if group is None or group.partition != partition:
                continue
            schedule.set(group_id, group.next_flush_at)
            integrations = self.integrations.get(group.receiver, ())
            if any(self._pending_entry(group, integration) for integration in integrations):
                schedule.pending.add(group_id)
        return schedule

    def _pending_entry(self, group: GroupState, integration: IntegrationRef) -> bool:
        entry = NflogEntry.load(self.nflog.get(nflog_key(group.group_id, integration.name)))
        return entry is not None and entry.pending is not None

    def _pending(
        self, group: GroupState, integrations: Sequence[IntegrationRef], in_flight: Container[str]
    ) -> tuple[set[str], list[DeliveryJob]] | None:
        """The keys of the group's pending jobs, and those nobody works on; None if none is pending."""
        keys: set[str] = set()
        jobs: list[DeliveryJob] = []
        for integration in integrations:
            entry = NflogEntry.load(self.nflog.get(nflog_key(group.group_id, integration.name)))
            if entry is None or entry.pending is None:
                continue
            key = job_key(group.group_id, integration.name, entry.pending.id)
            keys.add(key)
            if key not in in_flight:
                jobs.append(self._rebuild(group, integration, entry.pending))
        return (keys, jobs) if keys else None

    def _rebuild(
        self, group: GroupState, integration: IntegrationRef, pending: PendingNotification
    ) -> DeliveryJob:
        ids = pending.firing + (pending.resolved if integration.send_resolved else [])
        states = [
            stored.state()
            for fingerprint in ids
            if (stored := StoredAlert.load(self.alerts.get(alert_key(group.group_id, fingerprint))))
            is not None
        ]
        notification = self._notification(group, integration, states, pending.flushed_at, pending.sequence)
        return DeliveryJob(notification, integration.name, group.partition, recovered=True)

    def _notification(
        self,
        group: GroupState,
        integration: IntegrationRef,
        states: Sequence[AlertState],
        now: datetime,
        sequence: int,
    ) -> Notification:
        return Notification(
            id=notification_id(group.group_id, integration.name, sequence),
            group_id=group.group_id,
            group_key=group.group_key,
            receiver=group.receiver,
            integration=integration.name,
            group_labels=group.labels,
            alerts=tuple(states),
            now=now,
            sequence=sequence,
            external_url=self.spec.config.external_url,
        )

    def _flush(
        self, group: GroupState, integrations: Sequence[IntegrationRef], now: datetime, report: FlushReport
    ) -> bool:
        """Flush one group; True if it now has pending notifications."""
        states = self._current_alerts(group)
        if not states:
            self._remove(group, integrations)
            report.removed_groups += 1
            return False
        jobs_before = len(report.jobs)
        opts = self._opts(group.route_id)
        route = self.spec.route(group.route_id)
        stages = [MuteStage(self.inhibitor)]
        if route is not None:
            stages.append(MuteStage(self.spec.time_muter(route)))
        stages.append(MuteStage(self.silencer))
        context = run_stages(FlushContext(group.group_id, now, states), stages)
        report.muted.update(context.muted)
        report.flushed += 1
        firing = {s.fingerprint for s in context.alerts if not s.resolved(now)}
        resolved = {s.fingerprint for s in context.alerts if s.resolved(now)}
        for integration in integrations:
            key = nflog_key(group.group_id, integration.name)
            entry = NflogEntry.load(self.nflog.get(key))
            if not needs_update(
                entry,
                firing,
                resolved,
                send_resolved=integration.send_resolved,
                repeat_interval=opts.repeat_interval,
                now=now,
            ):
                continue
            sequence = (entry.sequence if entry is not None else 0) + 1
            chosen = [s for s in context.alerts if integration.send_resolved or not s.resolved(now)]
            if not chosen:
                # Only resolved alerts, and the integration does not want them: log, send nothing.
                self.nflog[key] = NflogEntry(
                    sequence=sequence, firing=sorted(firing), resolved=sorted(resolved), sent_at=now
                ).dump()
                continue
            notification = self._notification(group, integration, chosen, now, sequence)
            pending = PendingNotification(
                id=notification.id,
                sequence=sequence,
                firing=sorted(firing),
                resolved=sorted(resolved),
                created_at=now,
                flushed_at=now,
            )
            base = entry if entry is not None else NflogEntry()
            self.nflog[key] = base.model_copy(update={"pending": pending}).dump()
            report.jobs.append(DeliveryJob(notification, integration.name, group.partition))
        group.last_flush_at = now
        group.next_flush_at = now + timedelta(seconds=opts.group_interval)
        self.groups[group.group_id] = group.dump()
        return len(report.jobs) > jobs_before

    def _current_alerts(self, group: GroupState) -> list[AlertState]:
        """The group's alerts, after dropping those already resolved at the last flush."""
        kept_ids: list[str] = []
        states: list[AlertState] = []
        for fingerprint in group.alert_ids:
            key = alert_key(group.group_id, fingerprint)
            stored = StoredAlert.load(self.alerts.get(key))
            if stored is None:
                continue
            if group.last_flush_at is not None and stored.ends_at <= group.last_flush_at:
                del self.alerts[key]
                continue
            kept_ids.append(fingerprint)
            states.append(stored.state())
        if kept_ids != group.alert_ids:
            group.alert_ids = kept_ids
            self.groups[group.group_id] = group.dump()
        return states

    def _remove(self, group: GroupState, integrations: Sequence[IntegrationRef]) -> None:
        for integration in integrations:
            key = nflog_key(group.group_id, integration.name)
            if key in self.nflog:
                del self.nflog[key]
        del self.groups[group.group_id]

    # -- record ----------------------------------------------------------------------------------

    def record(self, result: DeliveryResult) -> bool:
        """Make a pending notification the integration's last one; False if it is stale."""
        key = nflog_key(result.group_id, result.integration)
        entry = NflogEntry.load(self.nflog.get(key))
        if entry is None or entry.pending is None or entry.pending.id != result.notification_id:
            return False
        pending = entry.pending
        self.nflog[key] = NflogEntry(
            sequence=pending.sequence,
            firing=pending.firing,
            resolved=pending.resolved,
            sent_at=result.at,
        ).dump()
        return True
