"""Print notifications on the worker's terminal, for local use and demos."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from alerts.notification import Notification
from alerts.sinks.base import SendResult
from alerts.sinks.console import render_alert

__all__ = ["ConsoleNotifier"]


class ConsoleNotifier:
    def __init__(
        self, name: str, *, send_resolved: bool = True, console: Console | None = None, max_evidence: int = 10
    ) -> None:
        self.name = name
        self.send_resolved = send_resolved
        self.console = console or Console()
        self.max_evidence = max_evidence

    def __repr__(self) -> str:
        return f"ConsoleNotifier(name={self.name!r})"

    async def notify(self, notification: Notification) -> SendResult:
        """Print the group; printing cannot be retried, so any failure raises."""
        heading = Text(
            f"{notification.status.upper()} · {notification.receiver} · "
            f"{len(notification.firing)} firing, {len(notification.resolved)} resolved · "
            f"{dict(notification.group_labels)}"
        )
        panels = [render_alert(state.alert, max_evidence=self.max_evidence) for state in notification.alerts]
        self.console.print(Panel(Group(*panels), title=heading, title_align="left"))
        return SendResult.delivered("printed")
