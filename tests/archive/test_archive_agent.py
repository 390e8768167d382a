"""The archive agent is wired into the worker's app only when switched on, and never without a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.app import create_app
from pipeline.archive.errors import KeyFileError
from pipeline.archive.keys import KEY_ENV, KEY_FILE_ENV, Signer
from pipeline.config import AuditwatchConfig
from pipeline.stages import build_stages

REPO = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, **archive: object) -> AuditwatchConfig:
    return AuditwatchConfig.model_validate(
        {
            "kafka": {"state_dir": str(tmp_path / "state")},
            "rules": {"dir": str(REPO / "config" / "rules")},
            "archive": {"dir": str(tmp_path / "archive"), **archive},
        }
    )


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)


def agents(settings: AuditwatchConfig) -> set[str]:
    app = create_app(settings, build_stages(settings))
    return {agent.name.rsplit(".", 1)[-1] for agent in app.agents.values()}


def test_the_archive_agent_runs_only_when_enabled(tmp_path: Path) -> None:
    assert "archive" not in agents(config(tmp_path))
    key = tmp_path / "archive.pem"
    Signer.generate().write(key)
    assert "archive" in agents(config(tmp_path, enabled=True, signing_key_file=str(key)))


def test_a_worker_with_the_archive_on_and_no_key_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="auditwatch archive keygen"):
        agents(config(tmp_path, enabled=True))


def test_an_unknown_archive_key_in_the_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extra"):
        config(tmp_path, enabeld=True)
