"""Per-topic and per-file format pinning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.format_pinning import FormatSelector
from pipeline.formats import FormatContext, default_registry
from pipeline.ingest import Accepted, Rejection, accept_record

NATIVE = json.dumps(
    {
        "event_id": "e1",
        "time": "2026-01-01T00:00:00Z",
        "actor": {"id": "alice"},
        "action": "login",
        "origin": {"system": "acme.sso"},
    }
).encode()


def test_first_matching_pin_wins_and_others_detect() -> None:
    selector = FormatSelector(FormatContext(), {"audit.raw.okta": "okta", "*.log": "syslog_auth"})
    assert selector.context_for("audit.raw.okta").pinned_format == "okta"
    assert selector.context_for("/var/log/auth.log").pinned_format == "syslog_auth"
    assert selector.context_for("audit.raw").pinned_format is None


def test_a_pinned_source_rejects_records_of_another_format() -> None:
    registry = default_registry()
    selector = FormatSelector(FormatContext(), {"okta-topic": "okta"})
    assert isinstance(accept_record(NATIVE, registry, selector.context_for("other")), Accepted)
    rejected = accept_record(NATIVE, registry, selector.context_for("okta-topic"))
    assert isinstance(rejected, Rejection)


def test_unknown_format_in_config_is_an_error_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "auditwatch.yaml"
    config.write_text("ingest:\n  formats:\n    '*.log': sysloggy\n")
    with pytest.raises(
        ConfigError, match=r"auditwatch.yaml:3: ingest.formats.\*.log: unknown format 'sysloggy'"
    ):
        load_config(config)
