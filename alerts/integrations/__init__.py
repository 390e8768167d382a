"""Receivers' integrations: where notifications go (Slack, webhook, PagerDuty, console, file)."""
