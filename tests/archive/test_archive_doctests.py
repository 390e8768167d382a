"""The examples in the archive's docstrings run."""

from __future__ import annotations

import doctest

import pytest

from pipeline.archive import canonical, merkle


@pytest.mark.parametrize("module", [canonical, merkle], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, verbose=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
