"""Tokens: secrets shown once, only hashes on disk (mode 0600), constant-time lookup, the CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pipeline.api import ApiBackend, create_api
from pipeline.api.errors import TokenStoreError
from pipeline.api.roles import Role
from pipeline.api.tokens import TokenStore, hash_secret
from pipeline.cli import app


def test_a_created_token_authenticates_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tokens.json"
    store = TokenStore(path)
    info, secret = store.create("bob", "responder")
    assert store.authenticate(secret) == info and info.role is Role.RESPONDER
    assert store.authenticate(secret + "x") is None and store.authenticate("") is None
    text = path.read_text()
    assert secret not in text and hash_secret(secret) in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temporary file left


def test_another_store_on_the_same_file_sees_creations_and_revocations(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    worker, cli = TokenStore(path), TokenStore(path)
    info, secret = cli.create("carol", "viewer")
    assert worker.authenticate(secret) == info
    assert cli.revoke(info.id) == info
    assert worker.authenticate(secret) is None
    assert cli.revoke(info.id) is None


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [
        ("bob", "boss", "unknown role 'boss'"),
        ("", "viewer", "use 1-64 letters"),
        ("bob smith", "viewer", "use 1-64 letters"),
    ],
)
def test_bad_requests_say_what_to_change(name: str, role: str, message: str) -> None:
    with pytest.raises(TokenStoreError, match=message):
        TokenStore().create(name, role)


def test_names_are_unique() -> None:
    store = TokenStore()
    store.create("bob", "viewer")
    with pytest.raises(TokenStoreError, match="a token named 'bob' exists"):
        store.create("bob", "admin")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable tokens file"),
        ('{"tokens": {}}', "expected"),
        (
            '{"tokens": [{"id": "a", "name": "b", "role": "root", "created": "2026-01-01T00:00:00+00:00"}]}',
            "token 1 is malformed",
        ),
        (
            '{"tokens": [{"id": "a", "name": "b", "role": "admin", "created": "2026-01-01T00:00:00+00:00",'
            ' "sha256": "secret-in-clear"}]}',
            "no valid sha256",
        ),
    ],
)
def test_a_damaged_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    with pytest.raises(TokenStoreError, match=message):
        TokenStore(path)


def test_cli_create_prints_the_secret_once_and_the_file_holds_only_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    runner = CliRunner()
    created = runner.invoke(
        app, ["token", "create", "--role", "responder", "--name", "bob", "--file", str(path)]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("awt_") and len(secret) > 40
    [entry] = json.loads(path.read_text())["tokens"]
    assert entry["name"] == "bob" and entry["role"] == "responder"
    assert entry["sha256"] == hash_secret(secret) and secret not in path.read_text()
    listed = runner.invoke(app, ["token", "list", "--file", str(path)])
    assert listed.exit_code == 0 and "bob" in listed.stdout and secret not in listed.stdout
    assert entry["sha256"] not in listed.stdout
    refused = runner.invoke(app, ["token", "create", "--role", "root", "--name", "x", "--file", str(path)])
    assert refused.exit_code == 2 and "unknown role 'root'" in refused.stderr
    revoked = runner.invoke(app, ["token", "revoke", entry["id"], "--file", str(path)])
    assert revoked.exit_code == 0
    assert TokenStore(path).authenticate(secret) is None
    again = runner.invoke(app, ["token", "revoke", entry["id"], "--file", str(path)])
    assert again.exit_code == 1 and "no token with id" in again.stderr


async def test_a_tokens_file_damaged_under_a_running_api_refuses_calls_with_503(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    _, secret = store.create("bob", "viewer")
    emitted: list[object] = []

    async def emit(event: object) -> None:
        emitted.append(event)

    app = create_api(ApiBackend(), store, emit)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert (await client.get("/api/v1/whoami", headers=headers)).status_code == 200
        path.write_text("{broken")
        refused = await client.get("/api/v1/whoami", headers=headers)
        assert refused.status_code == 503 and "tokens file" in refused.text
        assert (await client.get("/api/v1/nope", headers=headers)).status_code == 404
    assert len(emitted) == 3


async def test_tokens_through_the_api_show_the_secret_once_and_never_a_hash() -> None:
    store = TokenStore()
    _, admin = store.create("root", "admin")

    async def emit(event: object) -> None:
        return None

    app = create_api(ApiBackend(), store, emit)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        headers = {"Authorization": f"Bearer {admin}"}
        created = await client.post(
            "/api/v1/tokens", headers=headers, json={"role": "responder", "name": "eve"}
        )
        assert created.status_code == 200
        body = created.json()
        assert set(body) == {"id", "name", "role", "token"} and body["role"] == "responder"
        listed = (await client.get("/api/v1/tokens", headers=headers)).text
        assert body["token"] not in listed and hash_secret(body["token"]) not in listed and "eve" in listed
        new = {"Authorization": f"Bearer {body['token']}"}
        assert (await client.get("/api/v1/whoami", headers=new)).json()["role"] == "responder"
        bad = await client.post("/api/v1/tokens", headers=headers, json={"role": "root", "name": "x"})
        assert bad.status_code == 400 and "unknown role" in bad.text
        assert (await client.delete(f"/api/v1/tokens/{body['id']}", headers=headers)).status_code == 200
        assert (await client.get("/api/v1/whoami", headers=new)).status_code == 401
