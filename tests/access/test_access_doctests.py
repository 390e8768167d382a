"""The examples in the access review's docstrings run."""

from __future__ import annotations

import doctest

import pytest

from pipeline.access import actions, review, window


@pytest.mark.parametrize("module", [actions, review, window], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, verbose=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
