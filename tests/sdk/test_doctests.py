"""The examples in the SDK's docstrings run."""

from __future__ import annotations

import doctest

import pytest

from auditwatch_sdk import client, logging_handler


@pytest.mark.parametrize("module", [client, logging_handler], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0
