"""Standard Webhooks signatures, checked against the spec libraries' own vectors."""

from __future__ import annotations

import base64
import doctest
import json
from pathlib import Path
from typing import Any

import pytest

import alerts.signing
from alerts.errors import AlertConfigError, SignatureError
from alerts.signing import decode_secret, sign, signature_headers, verify

DATA = Path(__file__).parent / "data"
VECTORS_FILE = "standard_webhooks_vectors.json"
# The shared conformance suite sits next to the repository (CI clones it there).
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"

VECTORS: list[dict[str, Any]] = json.loads((DATA / VECTORS_FILE).read_text())["vectors"]
SIGNING = [v for v in VECTORS if "expected_signature" in v]
TAMPERED = [v for v in VECTORS if not v["expected_valid"]]


def test_vector_copy_matches_the_shared_conformance_file() -> None:
    # Fails, rather than skips, when shared/ is missing: the copy would then go unchecked.
    origin = SHARED / VECTORS_FILE
    assert origin.is_file(), f"{origin} is missing; clone shared/ next to the repository"
    assert json.loads(origin.read_text()) == json.loads((DATA / VECTORS_FILE).read_text())


def test_vectors_cover_signing_and_rejection() -> None:
    assert len(SIGNING) >= 3
    assert len(TAMPERED) >= 1


@pytest.mark.parametrize("vector", SIGNING, ids=lambda v: v["name"])
def test_sign_matches_vector(vector: dict[str, Any]) -> None:
    signature = sign(vector["secret"], vector["msg_id"], vector["timestamp"], vector["payload"])

    assert signature == vector["expected_signature"]
    assert (
        signature_headers(
            vector["secret"], vector["msg_id"], vector["timestamp"], vector["payload"].encode()
        )
        == vector["headers"]
    )


@pytest.mark.parametrize("vector", SIGNING, ids=lambda v: v["name"])
def test_vector_verifies_at_its_own_time(vector: dict[str, Any]) -> None:
    verify(vector["secret"], vector["payload"], vector["headers"], now=vector["timestamp"] + 10)


@pytest.mark.parametrize("vector", SIGNING, ids=lambda v: v["name"])
def test_vector_is_stale_at_the_current_time(vector: dict[str, Any]) -> None:
    with pytest.raises(SignatureError, match="outside the 300 s tolerance"):
        verify(vector["secret"], vector["payload"], vector["headers"])


@pytest.mark.parametrize("vector", TAMPERED, ids=lambda v: v["name"])
def test_tampered_vector_is_rejected(vector: dict[str, Any]) -> None:
    headers = {**vector["headers"], "webhook-signature": vector["presented_signature_header"]}

    with pytest.raises(SignatureError, match="no v1 signature"):
        verify(vector["secret"], vector["payload"], headers, now=vector["timestamp"])


def _vector_one() -> dict[str, Any]:
    return SIGNING[0]


def test_any_of_several_signatures_may_match() -> None:
    v = _vector_one()
    rotated = f"v1,{base64.b64encode(b'x' * 32).decode()} v1a,ignored {v['expected_signature']}"
    headers = {**v["headers"], "webhook-signature": rotated}

    verify(v["secret"], v["payload"], headers, now=v["timestamp"])


def test_headers_are_matched_without_regard_to_case() -> None:
    v = _vector_one()
    headers = {name.title(): value for name, value in v["headers"].items()}

    verify(v["secret"], v["payload"], headers, now=v["timestamp"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"payload": '{"test": 2432232315}'}, "no v1 signature"),
        ({"msg_id": "msg_other"}, "no v1 signature"),
        ({"timestamp": "1614265331"}, "no v1 signature"),
        ({"timestamp": "soon"}, "not an integer"),
        ({"secret": "whsec_" + base64.b64encode(b"another key").decode()}, "no v1 signature"),
    ],
)
def test_any_change_breaks_the_signature(change: dict[str, str], reason: str) -> None:
    v = _vector_one()
    headers = dict(v["headers"])
    if "msg_id" in change:
        headers["webhook-id"] = change["msg_id"]
    if "timestamp" in change:
        headers["webhook-timestamp"] = change["timestamp"]

    with pytest.raises(SignatureError, match=reason):
        verify(
            change.get("secret", v["secret"]),
            change.get("payload", v["payload"]),
            headers,
            now=v["timestamp"],
        )


def test_future_timestamps_outside_the_tolerance_are_rejected() -> None:
    v = _vector_one()

    verify(v["secret"], v["payload"], v["headers"], now=v["timestamp"] - 299)
    with pytest.raises(SignatureError, match="outside the 60 s tolerance"):
        verify(v["secret"], v["payload"], v["headers"], now=v["timestamp"] - 61, tolerance=60)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_named(missing: str) -> None:
    v = _vector_one()
    headers = {k: val for k, val in v["headers"].items() if k != missing}

    with pytest.raises(SignatureError, match=f"the {missing} header is missing"):
        verify(v["secret"], v["payload"], headers, now=v["timestamp"])


def test_secret_forms() -> None:
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

    assert decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == key
    assert decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == key
    assert decode_secret(key) == key
    v = _vector_one()
    assert sign(key, v["msg_id"], v["timestamp"], v["payload"]) == v["expected_signature"]


@pytest.mark.parametrize("secret", ["whsec_not base64!", "", b""])
def test_bad_secret_is_a_config_error(secret: str | bytes) -> None:
    with pytest.raises(AlertConfigError, match=r"whsec_|empty"):
        decode_secret(secret)


def test_module_examples() -> None:
    result = doctest.testmod(alerts.signing)
    assert result.attempted > 0
    assert result.failed == 0
