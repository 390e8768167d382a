"""What ``verify`` found: one item per segment and checkpoint, each valid or INVALID with its problems.

``Report.lines()`` is what ``auditwatch archive verify`` prints, in the manner
of ``aws cloudtrail validate-logs``: each item, its problems with reason and
location, then summary counts.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from pipeline.archive.checkpoints import Checkpoint

__all__ = ["Item", "Problem", "Reason", "Report"]


class Reason(enum.StrEnum):
    HASH_MISMATCH = "hash mismatch"
    MALFORMED = "malformed"
    MISSING = "missing"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    DUPLICATED = "duplicated"
    MODIFIED = "modified after sealing"
    BAD_SIGNATURE = "bad signature"
    UNKNOWN_KEY = "unknown key"
    CHAIN_BROKEN = "chain broken"
    OLDER = "older checkpoint"
    OLDER_THAN_TRUSTED = "older than trusted"
    ROOT_MISMATCH = "root mismatch"
    FORK = "fork"


@dataclass(frozen=True)
class Problem:
    reason: Reason
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason} at {self.where}: {self.detail}"


@dataclass
class Item:
    """One line of the report: a segment, a checkpoint, the log as a whole, or the trusted checkpoint."""

    kind: str
    name: str
    summary: str
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class Report:
    items: list[Item]
    records: int
    kinds: Counter[str]
    invalid_records: int
    unsigned: int
    latest: Checkpoint | None
    trusted: Checkpoint | None

    @property
    def ok(self) -> bool:
        return all(item.valid for item in self.items)

    @property
    def problems(self) -> list[Problem]:
        return [problem for item in self.items for problem in item.problems]

    def reasons(self) -> set[Reason]:
        return {problem.reason for problem in self.problems}

    def lines(self) -> list[str]:
        """The report as ``validate-logs`` prints it: one line per item, its problems, then the counts."""
        out: list[str] = []
        for item in self.items:
            if item.skipped:
                continue
            status = "valid" if item.valid else "INVALID"
            name = f" {item.name}" if item.name else ""
            out.append(f"{item.kind}{name} ({item.summary}): {status}")
            out.extend(f"  {problem}" for problem in item.problems)
        out.append("Results:")
        for kind in ("segment", "checkpoint"):
            valid, invalid, skipped = self.count(kind)
            extra = f", {skipped} skipped" if skipped else ""
            out.append(f"  {kind}s: {valid} valid, {invalid} INVALID{extra}")
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items()))
        out.append(f"  records: {self.records} ({kinds}), {self.invalid_records} INVALID")
        if self.latest is not None:
            latest = self.latest
            out.append(f"  latest valid checkpoint: {latest.number} (size {latest.size}, {latest.time})")
        out.append(f"  not yet signed: {self.unsigned} record(s) after the newest checkpoint")
        if self.trusted is not None:
            out.append(f"  trusted checkpoint: {self.trusted.number} (size {self.trusted.size})")
        problems = len(self.problems)
        out.append("archive valid" if self.ok else f"archive INVALID: {problems} problem(s)")
        return out

    def count(self, kind: str) -> tuple[int, int, int]:
        """Valid, invalid and skipped items of a kind."""
        items = [i for i in self.items if i.kind == kind]
        skipped = sum(1 for i in items if i.skipped)
        invalid = sum(1 for i in items if not i.valid)
        return len(items) - invalid - skipped, invalid, skipped
