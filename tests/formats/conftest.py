"""Fixtures for the input-format tests: the sample records and a deterministic context."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.formats import FormatContext

DATA = Path(__file__).parent / "data"
FIXED_NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def ctx() -> FormatContext:
    """Year 2024 for syslog, no zone configured (so UTC is assumed), a fixed clock."""
    return FormatContext(default_year=2024, now=_fixed_now)


@pytest.fixture
def sample() -> Callable[[str], Any]:
    """A sample file's JSON content, by file name (``samples/`` first, then ``written/``)."""

    def load(name: str) -> Any:
        path = DATA / "samples" / name
        if not path.exists():
            path = DATA / "written" / name
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return json.loads(path.read_text())

    return load
