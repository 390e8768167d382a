"""``auditwatch archive ...`` and ``replay --archive`` as an operator and an auditor run them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo.jsonl"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("AUDITWATCH_WEBHOOK_URL", "AUDITWATCH_WEBHOOK_SECRET", "AUDITWATCH_SLACK_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AUDITWATCH_ARCHIVE_SIGNING_KEY", raising=False)
    monkeypatch.chdir(REPO)
    return CliRunner()


@pytest.fixture
def keys(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    key, ring = tmp_path / "secret" / "archive.pem", tmp_path / "keys.json"
    result = runner.invoke(app, ["archive", "keygen", "--out", str(key), "--keyring", str(ring)])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE", str(key))
    return key, ring


@pytest.fixture
def archive_dir(runner: CliRunner, keys: tuple[Path, Path], tmp_path: Path) -> Path:
    directory = tmp_path / "archive"
    result = runner.invoke(app, ["replay", str(DEMO), "--no-send", "--archive", str(directory)])
    assert result.exit_code == 0, result.output
    assert "archived 319 records" in result.output  # start, 316 events, 1 alert, stop
    return directory


def run(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_keygen_writes_a_private_key_for_its_owner_only_and_never_overwrites(
    runner: CliRunner, keys: tuple[Path, Path]
) -> None:
    key, ring = keys
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    entry = json.loads(ring.read_text())["keys"][0]
    assert entry["algorithm"] == "ed25519" and len(entry["key_id"]) == 64
    code, output = run(runner, "archive", "keygen", "--out", str(key), "--keyring", str(ring))
    assert code == 2 and "already exists" in output
    code, output = run(runner, "archive", "public-key", "--key-file", str(key))
    assert code == 0 and json.loads(output)["keys"][0]["key_id"] == entry["key_id"]


def test_replay_archives_and_verify_reports_valid_with_counts(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path]
) -> None:
    code, output = run(runner, "archive", "verify", "--dir", str(archive_dir), "--keys", str(keys[1]))
    assert code == 0, output
    assert "records: 319 (1 alert, 316 event, 1 writer_start, 1 writer_stop), 0 INVALID" in output
    assert "segments: 1 valid, 0 INVALID" in output
    assert output.rstrip().endswith("archive valid")


def test_a_second_replay_of_the_same_input_appends_no_duplicate(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path]
) -> None:
    result = runner.invoke(app, ["replay", str(DEMO), "--no-send", "--archive", str(archive_dir)])
    assert "archived 2 records in" in result.output and "(317 already there)" in result.output
    code, output = run(runner, "archive", "verify", "--dir", str(archive_dir), "--keys", str(keys[1]))
    assert code == 0, output


def test_verify_exits_non_zero_and_names_the_tampered_record(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path]
) -> None:
    segment = next((archive_dir / "segments").glob("seg-*.log"))
    segment.chmod(0o644)
    data = bytearray(segment.read_bytes())
    data[data.index(b'"alice"') + 1] = ord("A")
    segment.write_bytes(bytes(data))
    code, output = run(runner, "archive", "verify", "--dir", str(archive_dir), "--keys", str(keys[1]))
    assert code == 1
    assert f"segment {segment.name} (records 0-318): INVALID" in output
    assert "hash mismatch at record " in output
    assert "archive INVALID" in output


def test_an_unknown_key_fails_verification(runner: CliRunner, archive_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    run(runner, "archive", "keygen", "--out", str(tmp_path / "other.pem"), "--keyring", str(other))
    code, output = run(runner, "archive", "verify", "--dir", str(archive_dir), "--keys", str(other))
    assert code == 1 and "unknown key at checkpoint 0" in output


def test_prove_and_verify_the_proof_offline(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    event_id = json.loads(DEMO.read_text().splitlines()[0])["event_id"]
    proof = tmp_path / "proof.json"
    code, output = run(runner, "archive", "prove", event_id, "--dir", str(archive_dir), "--out", str(proof))
    assert code == 0, output
    code, output = run(runner, "archive", "verify-proof", str(proof), "--keys", str(keys[1]))
    assert code == 0, output
    assert "included: record 1 (event " in output and "proof valid" in output
    bundle = json.loads(proof.read_text())
    bundle["record"] = bundle["record"].replace('"success"', '"failure"')
    proof.write_text(json.dumps(bundle))
    code, output = run(runner, "archive", "verify-proof", str(proof), "--keys", str(keys[1]))
    assert code == 1 and "INVALID: the proof leads to a different root" in output


def test_prove_an_unknown_id_fails_clearly(runner: CliRunner, archive_dir: Path) -> None:
    code, output = run(runner, "archive", "prove", "no-such-event", "--dir", str(archive_dir))
    assert code == 2 and "no event or alert with id 'no-such-event'" in output


def test_consistency_between_two_checkpoints_verifies_offline(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    checkpoints = sorted((archive_dir / "checkpoints").glob("cp-*.json"))
    newest = len(checkpoints) - 1
    proof = tmp_path / "consistency.json"
    code, output = run(
        runner, "archive", "consistency", "0", str(newest), "--dir", str(archive_dir), "-o", str(proof)
    )
    assert code == 0, output
    code, output = run(runner, "archive", "verify-proof", str(proof), "--keys", str(keys[1]))
    assert code == 0 and f"consistent: checkpoint {newest} (size 319" in output


def test_export_a_time_range_with_proofs(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "export.json"
    code, output = run(
        runner,
        "archive", "export", "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
        "--kind", "alert", "--dir", str(archive_dir), "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    bundle = json.loads(out.read_text())
    assert len(bundle["records"]) == 1
    code, output = run(runner, "archive", "verify-proof", str(out), "--keys", str(keys[1]))
    assert code == 0 and "1 records from 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z, all proven" in output


def test_the_trusted_checkpoint_catches_a_rollback(
    runner: CliRunner, archive_dir: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    trusted = tmp_path / "witness" / "trusted.json"
    args = ["archive", "verify", "--dir", str(archive_dir), "--keys", str(keys[1]), "--trusted", str(trusted)]
    code, output = run(runner, *args)
    assert code == 0 and trusted.exists(), output
    newest = sorted((archive_dir / "checkpoints").glob("cp-*.json"))[-1]
    newest.unlink()
    segment = next((archive_dir / "segments").glob("seg-*.log"))
    segment.chmod(0o644)
    segment.write_bytes(b"".join(segment.read_bytes().splitlines(keepends=True)[:-1]))
    segment.with_name(segment.stem + ".seal.json").unlink()
    code, output = run(runner, *args)
    assert code == 1 and "older than trusted" in output


def test_replay_archive_needs_a_signing_key(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITWATCH_ARCHIVE_SIGNING_KEY_FILE", raising=False)
    code, output = run(runner, "replay", str(DEMO), "--no-send", "--archive", str(tmp_path / "a"))
    assert code == 2 and "the archive needs a signing key" in output
