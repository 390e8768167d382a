"""The detectors' exceptions, rooted at ``DetectorError``."""

from __future__ import annotations

from collections.abc import Sequence

from detectors.yamlsource import SourceProblem

__all__ = ["DetectorError", "RuleLoadError"]


class DetectorError(Exception):
    """Base of every error the detectors raise on purpose."""


class RuleLoadError(DetectorError):
    """A rule set that cannot be loaded; ``problems`` lists each one with file and line."""

    def __init__(self, problems: Sequence[SourceProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the rules:\n{listing}")
