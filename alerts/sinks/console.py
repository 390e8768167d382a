"""Print alerts to a terminal: the sink for demos, development and replays.

Text from the alert is printed as plain text, never parsed as rich markup, so
an evidence value such as ``[bold]`` or ``[/]`` cannot garble or break output.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from alerts.describe import evidence_line
from alerts.model import Alert
from alerts.sinks.base import SendResult
from detectors.findings import Severity

__all__ = ["ConsoleSink", "render_alert"]

_STYLES = {
    Severity.INFO: "dim",
    Severity.LOW: "cyan",
    Severity.MEDIUM: "yellow",
    Severity.HIGH: "bold red",
    Severity.CRITICAL: "bold white on red",
}


def render_alert(alert: Alert, *, max_evidence: int = 10) -> Panel:
    """One alert as a panel: severity and title, summary, identifiers, evidence lines."""
    style = _STYLES[alert.severity]
    heading = Text.assemble((f" {alert.severity.label.upper()} ", style), " ", alert.title)
    lines: list[Text] = [Text(alert.summary)]
    if alert.description:
        lines.append(Text(alert.description, style="italic"))
    lines.append(
        Text(
            f"rule {alert.rule_id} · tenant {alert.tenant_id} · alert {alert.id}",
            style="dim",
        )
    )
    if alert.evidence:
        shown = alert.evidence[:max_evidence]
        lines.append(Text(f"evidence ({len(shown)} of {len(alert.evidence)} samples):"))
        lines.extend(Text(f"  {evidence_line(sample)}") for sample in shown)
    return Panel(Group(*lines), title=heading, title_align="left", border_style=style)


class ConsoleSink:
    """Writes each alert to a rich :class:`~rich.console.Console` (stdout by default)."""

    def __init__(
        self,
        name: str = "console",
        *,
        min_severity: Severity = Severity.INFO,
        console: Console | None = None,
        max_evidence: int = 10,
    ) -> None:
        self.name = name
        self.min_severity = min_severity
        self.console = console or Console()
        self.max_evidence = max_evidence

    def __repr__(self) -> str:
        return f"ConsoleSink(name={self.name!r}, min_severity={self.min_severity.label!r})"

    async def send(self, alert: Alert) -> SendResult:
        """Print the alert; printing cannot be retried, so any failure raises."""
        self.console.print(render_alert(alert, max_evidence=self.max_evidence))
        return SendResult.delivered("printed")
