from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from detectors.models import score_series
from pipeline.cli_models import register_model_commands

FLAG = 0.9999


def noisy(n: int, seed: int = 4, season: bool = False) -> list[float]:
    rng = random.Random(seed)
    return [
        100.0 + (30.0 * math.sin(2 * math.pi * i / 288) if season else 0.0) + rng.gauss(0, 2)
        for i in range(n)
    ]


def flagged(values: list[float]) -> list[int]:
    return [i for i, s in enumerate(score_series(values)) if s >= FLAG]


def test_spikes_and_drops_are_flagged() -> None:
    values = noisy(3000)
    for i in (1000, 2000):
        values[i] += 40
    values[2500] -= 40
    assert {1000, 2000, 2500} <= set(flagged(values))


def test_a_level_shift_is_flagged_then_accepted() -> None:
    values = [v + (30 if i >= 1500 else 0) for i, v in enumerate(noisy(3000))]
    hits = flagged(values)
    assert 1500 in hits
    assert not [i for i in hits if i > 1510]


@pytest.mark.parametrize("season", [False, True], ids=["flat", "seasonal"])
def test_quiet_on_flat_and_smoothly_seasonal_series(season: bool) -> None:
    assert len(flagged(noisy(5000, season=season))) <= 2
    clean = [100.0 + (30.0 * math.sin(2 * math.pi * i / 288) if season else 0.0) for i in range(5000)]
    assert flagged(clean) == []


def test_scores_use_only_rows_up_to_their_own() -> None:
    values = noisy(600)
    changed = values[:400] + [v * 3 for v in values[400:]]
    assert list(score_series(values))[:400] == list(score_series(changed))[:400]


def cli() -> typer.Typer:
    app = typer.Typer()
    register_model_commands(app)
    return app


def test_detect_series_scores_20000_rows_in_under_10_seconds(tmp_path: Path) -> None:
    values = noisy(20_000, season=True)
    values[12_000] += 60
    source = tmp_path / "series.csv"
    source.write_text(
        "timestamp,value\n" + "".join(f"2026-03-02T00:00:{i:05d},{v:.3f}\n" for i, v in enumerate(values))
    )
    out = tmp_path / "scored.csv"
    started = time.perf_counter()
    result = CliRunner().invoke(cli(), ["detect-series", str(source), "--output", str(out)])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 10.0
    rows = out.read_text().splitlines()
    assert rows[0] == "timestamp,value,anomaly_score"
    scores = [float(row.split(",")[2]) for row in rows[1:]]
    assert len(scores) == 20_000
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[12_000] >= FLAG


def test_detect_series_names_a_bad_row(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("timestamp,value\nt1,1\nt2,lots\n")
    result = CliRunner().invoke(cli(), ["detect-series", str(source)])
    assert result.exit_code == 2
    assert "bad.csv:3: value 'lots' is not a number" in result.output
